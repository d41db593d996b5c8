"""The state of one message's mapping: its entries, references between them, and places.

Entries get ``urn:uuid`` fullUrls derived from the message (sending application,
control id) and a key, so the same message always yields the same Bundle. Resources
known by a business identifier are written conditionally, for the server to resolve in
the transaction: ``upsert`` (``PUT Patient?identifier=sys|val``) when the message holds
the full record, ``ensure`` (``POST`` + ``ifNoneExist``) when it only names it; a replay
changes nothing. Two entries for the same target in one message are merged into one
(a transaction may act once on a resource).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from urllib.parse import quote

from . import errors as E
from .config import MappingConfig, uri_part
from .errors import MappingError
from .message import Message, Segment

_NS = uuid.UUID("6f1d3c1e-8d4b-4f0e-9a51-2b7c0e5a9d10")  # Passerelle's v2 mapping namespace
V2_KEY = "urn:passerelle:v2:key:"  # systems of identifiers derived from v2 business keys


_PLAIN = re.compile(r"[A-Za-z0-9_.:/~-]*\Z")


def uuid5(name: str) -> str:
    """``str(uuid.uuid5(_NS, name))``, formatted straight from the digest (every entry needs one)."""
    h = hashlib.sha1(_NS.bytes + name.encode("utf-8")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _quote(text: str, safe: str) -> str:
    return text if _PLAIN.match(text) else quote(text, safe=safe)  # most ids need no escaping


def token(ident: dict) -> str:
    """``system|value`` for a search (``|value`` without a system), URL-encoded."""
    return f"{_quote(ident.get('system', ''), ':/')}|{_quote(ident['value'], '')}"


class MapContext:
    def __init__(self, message: Message, config: MappingConfig):
        h = message.header
        self.message = message
        self.config = config
        self.tz = config.timezone
        self.salt = f"{h.sending_application}|{h.sending_facility}|{h.control_id}"
        self.source = config.source_system(h.sending_application, h.sending_facility)
        self.entries: list[dict] = []
        self._keys: dict[str, dict] = {}
        self.patient: str | None = None  # fullUrl of the message's Patient
        self.patient_key: str = ""  # its identifier, "system|value", scoping derived keys
        self.encounter: str | None = None

    # ----- entries -----
    def full_url(self, *key: str) -> str:
        return f"urn:uuid:{uuid5(self.salt + '|' + '|'.join(key))}"

    def upsert(self, resource: dict, identifier: dict) -> str:
        """``PUT Type?identifier=…``: create or update the resource known by ``identifier``."""
        rt = resource["resourceType"]
        url = f"{rt}?identifier={token(identifier)}"
        return self._add(resource, "PUT", url, url)

    def ensure(self, resource: dict, identifier: dict) -> str:
        """``POST`` with ``ifNoneExist``: the resource known by ``identifier`` as it is, or
        created from what this message knows (a lab result must not rewrite the
        demographics the admission system sent)."""
        rt = resource["resourceType"]
        key = f"{rt}?identifier={token(identifier)}"
        full_url = self._add(resource, "POST", rt, key)
        self._keys[key]["request"]["ifNoneExist"] = f"identifier={token(identifier)}"
        return full_url

    def create(self, resource: dict, key: str) -> str:
        rt = resource["resourceType"]
        return self._add(resource, "POST", rt, f"{rt}#{key}")

    def patch(self, resource_type: str, identifier: dict, operations: list[dict], key: str) -> str:
        """A conditional FHIRPath Patch (cancels: change a status, drop an end date)."""
        url = f"{resource_type}?identifier={token(identifier)}"
        body = {"resourceType": "Parameters", "parameter": [
            {"name": "operation", "part": op_parts} for op_parts in operations]}
        return self._add(body, "PATCH", url, f"PATCH {url}#{key}")

    def operation(self, url: str, parameters: dict, key: str) -> str:
        return self._add(parameters, "POST", url, f"POST {url}#{key}")

    def _add(self, resource: dict, method: str, url: str, key: str) -> str:
        existing = self._keys.get(key)
        if existing is not None:  # the same target twice in one message: the later data wins
            existing["resource"].update({k: v for k, v in resource.items() if k != "meta"})
            return existing["fullUrl"]
        if method in ("PUT", "POST") and resource.get("resourceType") != "Parameters":
            resource.setdefault("meta", {})["source"] = f"{self.source}#{uri_part(self.message.header.control_id)}"
        entry = {"fullUrl": self.full_url(key), "resource": resource, "request": {"method": method, "url": url}}
        self._keys[key] = entry
        self.entries.append(entry)
        return entry["fullUrl"]

    def has_identifier(self, resource_type: str, identifier: dict) -> bool:
        return f"{resource_type}?identifier={token(identifier)}" in self._keys

    def resource_of(self, full_url: str) -> dict | None:
        """The resource of an entry already added (to link it to what comes later)."""
        return next((e["resource"] for e in self.entries if e["fullUrl"] == full_url), None)

    def derived_identifier(self, kind: str, *parts: str) -> dict:
        """An identifier made of v2 business keys when the message carries no id of its
        own for a resource (an allergy is its patient and allergen)."""
        return {"system": V2_KEY + kind, "value": "/".join(p.replace("/", "%2F") for p in parts)}

    # ----- errors with their place -----
    def at(self, seg: Segment, field: int | None = None, code: str = E.DATA_TYPE_ERROR) -> _At:
        """``with ctx.at(seg, n):`` turns a data error inside into a MappingError naming SEG[seq]-n."""
        return _At(seg, field, code)

    def require(self, seg: Segment | None, name: str, field: int | None = None, what: str = "") -> None:
        if seg is None:
            raise MappingError(f"{self.message.type}: required segment {name} is missing", name, 1, None,
                               E.SEGMENT_SEQUENCE)
        if field is not None and not seg.raw(field).strip('"'):
            raise MappingError(f"{name}-{field} ({what}) is required for {self.message.type}", name,
                               seg.sequence, field, E.REQUIRED_FIELD_MISSING)


class _At:
    """The context manager of ``MapContext.at`` (a class: it runs for every converted field)."""

    __slots__ = ("seg", "field", "code")

    def __init__(self, seg: Segment, field: int | None, code: str):
        self.seg, self.field, self.code = seg, field, code

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or isinstance(exc, MappingError) or not isinstance(exc, (ValueError, KeyError)):
            return False
        text = str(exc.args[0]) if exc.args else kind.__name__
        raise MappingError(text, self.seg.name, self.seg.sequence, self.field, self.code) from exc
