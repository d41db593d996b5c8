"""``to_bundle``: one parsed message -> one FHIR transaction Bundle (pure)."""

from __future__ import annotations

from . import errors as E
from .config import MappingConfig
from .context import MapContext
from .errors import MappingError
from .message import Message
from .messages import HANDLERS
from .segments import provenance

_DEFAULT = MappingConfig()


def supported() -> list[str]:
    """``ADT^A01``, ``ORU^R01``...: the message types ``to_bundle`` maps."""
    return sorted(f"{code}^{event}" for code, event in HANDLERS)


def to_bundle(message: Message, config: MappingConfig | None = None) -> dict:
    h = message.header
    handler = HANDLERS.get((h.message_code, h.trigger_event))
    if handler is None:
        codes = {code for code, _ in HANDLERS}
        if h.message_code not in codes:
            raise MappingError(f"message type {h.message_code!r} is not mapped (supported: "
                               f"{', '.join(sorted(codes))})", "MSH", 1, 9, E.UNSUPPORTED_MESSAGE_TYPE, component=1)
        events = sorted(e for c, e in HANDLERS if c == h.message_code)
        raise MappingError(f"event {h.trigger_event!r} of {h.message_code} is not mapped (supported: "
                           f"{', '.join(events)})", "MSH", 1, 9, E.UNSUPPORTED_EVENT_CODE, component=2)
    ctx = MapContext(message, config or _DEFAULT)
    handler(ctx, message)
    if not ctx.entries:
        raise MappingError(f"{message.type} {h.control_id} holds nothing to map", "MSH", 1, None,
                           E.SEGMENT_SEQUENCE)
    prov = provenance.provenance(ctx, message)
    entries = list(ctx.entries)
    if prov is not None:
        entries.append({"fullUrl": ctx.full_url("provenance"), "resource": prov,
                        "request": {"method": "POST", "url": "Provenance",
                                    "ifNoneExist": provenance.if_none_exist(ctx, message)}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
