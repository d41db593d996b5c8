"""HL7 v2 in, FHIR R4 out: a fast tolerant parser and the v2-to-FHIR mapping.

Public API (the MLLP channel and the CLI code against it)::

    parse(raw) -> Message                 # bytes or str; ParseError names the place
    split_batch(raw) -> list[bytes]       # FHS/BHS/BTS/FTS files, concatenated messages
    to_bundle(message, config) -> dict    # a FHIR transaction Bundle (pure); MappingError names the place
    supported() -> list[str]              # the message types to_bundle maps ("ADT^A01", ...)
    MappingConfig.from_setting(path)      # PASSERELLE_HL7_MAPPING: the site's JSON file, or defaults
    validate(message) -> list[str]        # optional structure check (hl7apy), off the hot path

Pure: no database, no network, no clock; ids in the Bundle derive from the message.
Bundles may hold ``Decimal`` values: serialize them with ``server.jsonio.dumps``.
See docs/hl7v2-mapping.md.
"""

from __future__ import annotations

from .batch import split_batch
from .config import MappingConfig
from .errors import MappingError, ParseError
from .mapper import supported, to_bundle
from .message import Encoding, Header, Message, Rep, Segment
from .parser import parse
from .validation import validate

__all__ = [
    "Encoding", "Header", "MappingConfig", "MappingError", "Message", "ParseError", "Rep", "Segment",
    "parse", "split_batch", "supported", "to_bundle", "validate",
]
