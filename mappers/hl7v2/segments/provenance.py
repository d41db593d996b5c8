"""MSH + EVN -> the Provenance of one message: which system sent it, which message
(control id), when, which event, who did it, and every resource it wrote."""

from __future__ import annotations

from urllib.parse import quote

from .. import errors as E
from ..context import MapContext
from ..errors import MappingError
from ..datatypes.codes import codeable
from ..datatypes.names import display, human_name
from ..datatypes.time import instant
from ..message import Message

_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def provenance(ctx: MapContext, message: Message) -> dict | None:
    targets = []
    for entry in ctx.entries:
        method = entry["request"]["method"]
        if method in ("POST", "PUT") and entry["resource"].get("resourceType") not in ("Parameters",):
            targets.append({"reference": entry["fullUrl"]})
        elif method == "PATCH":  # a conditional reference the server resolves in the transaction
            targets.append({"reference": entry["request"]["url"]})
    if not targets:
        return None
    h = message.header
    msh = message.segment("MSH")
    evn = message.segment("EVN")
    with ctx.at(msh, 7):
        recorded = instant(h.datetime, ctx.tz)
    if not recorded and evn is not None:  # MSH-7 is required, but an EVN-2 says when too
        with ctx.at(evn, 2):
            recorded = instant(evn.get(2), ctx.tz)
    if not recorded:
        raise MappingError("MSH-7 (date/time of message) is missing: the Provenance needs it", "MSH", 1, 7,
                           E.REQUIRED_FIELD_MISSING)
    if evn is not None and evn.get(6):
        with ctx.at(evn, 6):
            occurred = instant(evn.get(6), ctx.tz)
    else:
        occurred = None
    res: dict = {
        "resourceType": "Provenance",
        "target": targets,
        "recorded": recorded,
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0003",
                                 "code": h.trigger_event or h.message_code}], "text": message.type},
        "agent": [{"type": {"coding": [{"system": _PARTICIPANT, "code": "author"}]},
                   "who": {"display": h.sending_application or ctx.source}}],
        "entity": [{"role": "source", "what": {
            "identifier": {"system": ctx.source, "value": h.control_id},
            "display": f"HL7 v2 {message.type} message {h.control_id}"}}],
    }
    if occurred:
        res["occurredDateTime"] = occurred
    if h.sending_facility:
        res["agent"][0]["onBehalfOf"] = {"display": h.sending_facility}
    if evn is not None:
        reason = codeable(evn.rep(4), "EventReason", "0062")
        if reason:
            res["reason"] = [reason]
        operator = evn.rep(5)
        if operator is not None and not operator.empty():
            name = display(human_name(operator, offset=1)) or operator.get(1)
            res["agent"].append({"type": {"coding": [{"system": _PARTICIPANT, "code": "enterer"}]},
                                 "who": {"display": name}})
    return res


def if_none_exist(ctx: MapContext, message: Message) -> str:
    """The same message replayed finds its Provenance instead of writing a second one."""
    return f"entity:identifier={quote(ctx.source, safe=':/')}|{quote(message.header.control_id, safe='')}"
