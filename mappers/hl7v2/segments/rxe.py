"""RXE / RXO (+ RXR, ORC) -> MedicationRequest (IG RXO[MedicationRequest], RXR[MedicationRequest])."""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import code, codeable
from ..datatypes.quantity import quantity
from ..datatypes.time import date_time
from ..message import Segment
from . import practitioner
from .order import bare_identifier, order_identifiers

# RXE: 2 give code, 3 min amount, 5 units, 10 dispense amount, 11 dispense units, 12 refills, 21 instructions
# RXO: 1 requested give code, 2 min amount, 4 units, 11 dispense amount, 12 dispense units, 13 refills, 7 instructions
_FIELDS = {"RXE": (2, 3, 5, 10, 11, 12, 21), "RXO": (1, 2, 4, 11, 12, 13, 7)}


def medication_request(ctx: MapContext, seg: Segment, orc: Segment | None, rxrs: list[Segment]) -> str:
    give_code, amount, units, dispense, dispense_units, refills, instructions = _FIELDS[seg.name]
    res: dict = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                 "medicationCodeableConcept": codeable(seg.rep(give_code)) or {"text": "unspecified medication"},
                 "subject": {"reference": ctx.patient}}
    if orc is not None:
        status = code(orc.get(5), "OrderStatus") if orc.get(5) else None
        if orc.get(1) in ("CA", "DC", "OC", "OD"):
            res["status"] = "cancelled" if orc.get(1) in ("CA", "OC") else "stopped"
        elif status in ("active", "completed", "draft", "entered-in-error", "on-hold", "revoked"):
            res["status"] = {"revoked": "cancelled", "draft": "draft"}.get(status, status)
        requester = practitioner.reference(ctx, orc.rep(12))
        if requester:
            res["requester"] = requester
        with ctx.at(orc, 9):
            authored = date_time(orc.get(9), ctx.tz)
        if authored:
            res["authoredOn"] = authored
    if ctx.encounter:
        res["encounter"] = {"reference": ctx.encounter}
    dosage: dict = {}
    text = " ".join(r.text() for r in seg.reps(instructions))
    if text:
        dosage["text"] = text
    if seg.get(amount):
        with ctx.at(seg, amount):
            dosage["doseAndRate"] = [{"doseQuantity": quantity(seg.get(amount), seg.rep(units))}]
    for rxr in rxrs:
        route = codeable(rxr.rep(1), "RouteOfAdministration", "0162")
        if route:
            dosage["route"] = route
            break
    if dosage:
        res["dosageInstruction"] = [dosage]
    dispense_request: dict = {}
    if seg.get(dispense):
        with ctx.at(seg, dispense):
            dispense_request["quantity"] = quantity(seg.get(dispense), seg.rep(dispense_units))
    if seg.get(refills).isdigit():
        dispense_request["numberOfRepeatsAllowed"] = int(seg.get(refills))
    if dispense_request:
        res["dispenseRequest"] = dispense_request
    idents = order_identifiers(ctx, orc, None)
    if idents:
        res["identifier"] = idents
        ident = bare_identifier(idents[0])
    else:
        ident = ctx.derived_identifier("medication-request", ctx.patient_key, seg.get(give_code),
                                       orc.get(9) if orc is not None else "")
        res["identifier"] = [ident]
    return ctx.upsert(res, ident)
