"""ADT: patient administration (IG maps ADT_A01, A02, A05, A06, A11; A40 is ours).

Updates are updates: demographic events (A01 A04 A05 A08 A28 A31) update the Patient
known by PID-3, the others only name it; visit events update the Encounter known by
PV1-19, so A08 changes the patient, A02 moves the encounter, A03 finishes it (PV1-45
is its end). A11 (cancel admit) and A13 (cancel discharge) patch the visit's status.
A40 asks the server's ``Patient/$merge`` to merge MRG-1 into PID-3.
"""

from __future__ import annotations

from .. import errors as E
from ..context import MapContext
from ..errors import MappingError
from ..message import Message
from ..segments import mrg
from ..segments.pv1 import visit_identifier
from .common import add_clinical, add_encounter, add_patient

VISIT_EVENTS = ("A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A12")
PERSON_EVENTS = ("A28", "A31")
EVENTS = VISIT_EVENTS + PERSON_EVENTS + ("A11", "A13", "A40")
# Events whose PID is the patient's full record: they update it (the others only name it).
DEMOGRAPHIC_EVENTS = ("A01", "A04", "A05", "A08", "A28", "A31")
# Events that act on a visit that must already be known by its number.
UPDATES_A_VISIT = ("A02", "A03", "A06", "A07", "A11", "A12", "A13")


def adt(ctx: MapContext, message: Message) -> None:
    event = message.header.trigger_event
    if event == "A40":
        add_patient(ctx, message)
        for seg in message.all("MRG"):
            mrg.merge(ctx, seg)
        return
    add_patient(ctx, message, update=event in DEMOGRAPHIC_EVENTS)
    if event in PERSON_EVENTS:
        add_clinical(ctx, message)
        return
    if event in ("A11", "A13"):
        _cancel(ctx, message, event)
        return
    add_encounter(ctx, message, event, required=event in UPDATES_A_VISIT, update=True)
    add_clinical(ctx, message)


def _cancel(ctx: MapContext, message: Message, event: str) -> None:
    pv1 = message.segment("PV1")
    ctx.require(pv1, "PV1", 19, "visit number")
    ident = visit_identifier(ctx, pv1)
    if ident is None:
        raise MappingError("PV1-19 (visit number) holds no identifier", "PV1", pv1.sequence, 19,
                           E.REQUIRED_FIELD_MISSING)
    ident = {"system": ident["system"], "value": ident["value"]}
    if event == "A11":  # cancel admit: the visit never happened
        ops = [_replace("Encounter.status", "valueCode", "cancelled")]
    else:  # A13, cancel discharge: the visit goes on
        ops = [_replace("Encounter.status", "valueCode", "in-progress"),
               [{"name": "type", "valueCode": "delete"}, {"name": "path", "valueString": "Encounter.period.end"}]]
    ctx.patch("Encounter", ident, ops, event)


def _replace(path: str, value_type: str, value) -> list[dict]:
    return [{"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": path},
            {"name": "value", value_type: value}]
