"""RXA (+ RXR, ORC) -> Immunization (IG RXA[Immunization], RXR[Immunization], ORC[Immunization]).

Known by the order's filler number (ORC-3), else placer (ORC-2), else by patient,
vaccine and date: a corrected or deleted (RXA-21 D) record updates the same resource.
"""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import code, codeable
from ..datatypes.ids import entity
from ..datatypes.quantity import quantity
from ..datatypes.time import date_time
from ..message import Segment
from . import practitioner

_FUNCTION = "http://terminology.hl7.org/CodeSystem/v2-0443"


def immunization(ctx: MapContext, rxa: Segment, rxr: Segment | None, orc: Segment | None) -> tuple[str, str]:
    """The Immunization's fullUrl and the key its OBX observations are filed under."""
    vaccine = codeable(rxa.rep(5)) or {"text": "unknown vaccine"}
    res: dict = {"resourceType": "Immunization", "status": "completed", "vaccineCode": vaccine,
                 "patient": {"reference": ctx.patient}}
    completion = rxa.get(20)
    if completion:
        res["status"] = code(completion, "CompletionStatus") or "completed"
    if rxa.get(21) == "D":
        res["status"] = "entered-in-error"
    if res["status"] == "not-done":
        reason = codeable(rxa.rep(18))
        if reason:
            res["statusReason"] = reason
    if ctx.encounter:
        res["encounter"] = {"reference": ctx.encounter}
    with ctx.at(rxa, 3):
        given = date_time(rxa.get(3), ctx.tz)
    res["occurrenceDateTime"] = given or None
    if not given:
        res.pop("occurrenceDateTime")
        res["occurrenceString"] = "unknown"
    amount = rxa.get(6)
    if amount and amount != "999":  # 999: amount unknown (CDC IIS guide)
        with ctx.at(rxa, 6):
            res["doseQuantity"] = quantity(amount, rxa.rep(7))
    source = rxa.get(9)
    res["primarySource"] = source in ("", "00")
    if source and source != "00":
        res["reportOrigin"] = codeable(rxa.rep(9), None, "NIP001") or {"text": source}
    performers = []
    for rep in rxa.reps(10):
        ref = practitioner.reference(ctx, rep)
        if ref:
            performers.append({"function": {"coding": [{"system": _FUNCTION, "code": "AP"}]}, "actor": ref})
    if orc is not None:
        ordering = practitioner.reference(ctx, orc.rep(12))
        if ordering:
            performers.append({"function": {"coding": [{"system": _FUNCTION, "code": "OP"}]}, "actor": ordering})
    if performers:
        res["performer"] = performers
    if rxa.get(11, 4):
        res["location"] = {"display": rxa.get(11, 4)}
    if rxa.get(15):
        res["lotNumber"] = rxa.get(15)
    with ctx.at(rxa, 16):
        expires = date_time(rxa.get(16))
    if expires:
        res["expirationDate"] = expires[:10]
    if rxa.rep(17) is not None:
        res["manufacturer"] = {"display": rxa.get(17, 2) or rxa.get(17, 1)}
    if rxr is not None:
        route = codeable(rxr.rep(1), "RouteOfAdministration", "0162")
        site = codeable(rxr.rep(2), "BodySite", "0163")
        if route:
            res["route"] = route
        if site:
            res["site"] = site
    ident = None
    for n in (3, 2):
        if orc is not None and ident is None:
            ident = entity(orc.rep(n), ctx.config)
    if ident is None:
        ident = ctx.derived_identifier("immunization", ctx.patient_key, rxa.get(5, 3), rxa.get(5, 1), rxa.get(3))
    res["identifier"] = [ident]
    key = f"{ident.get('system', '')}|{ident['value']}"
    return ctx.upsert(res, ident), key
