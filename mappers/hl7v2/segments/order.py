"""ORC + OBR -> ServiceRequest (IG ORC[ServiceRequest], OBR[ServiceRequest]);
OBR -> DiagnosticReport (IG OBR[DiagnosticReport]) for results.

An order is known by its placer number (ORC-2/OBR-2), else its filler number
(ORC-3/OBR-3): the order, its cancel (ORC-1 CA) and its results land on one
ServiceRequest.
"""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import code, codeable
from ..datatypes.ids import entity
from ..datatypes.time import date_time, instant
from ..message import Segment
from . import practitioner

_V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def order_identifiers(ctx: MapContext, orc: Segment | None, obr: Segment | None) -> list[dict]:
    out = []
    for kind, fields in (("PLAC", ((orc, 2), (obr, 2))), ("FILL", ((orc, 3), (obr, 3)))):
        for seg, n in fields:
            if seg is None:
                continue
            ident = entity(seg.rep(n), ctx.config)
            if ident:
                ident["type"] = {"coding": [{"system": _V2_0203, "code": kind}]}
                out.append(ident)
                break
    return out


def order_key(ctx: MapContext, orc: Segment | None, obr: Segment | None) -> str:
    idents = order_identifiers(ctx, orc, obr)
    if idents:
        return f"{idents[0].get('system', '')}|{idents[0]['value']}"
    return ctx.patient_key + "|" + (obr.get(4) if obr is not None else "")


def bare_identifier(ident: dict) -> dict:
    return {k: v for k, v in ident.items() if k in ("system", "value")}


def service_request(ctx: MapContext, orc: Segment | None, detail: Segment | None, code_field: int = 4,
                    notes: list[dict] = (), *, update: bool = True) -> tuple[str, dict]:
    """The ServiceRequest of an order (``detail``: OBR, or a pharmacy/other detail segment):
    updated by order messages (``update``), only created when unknown by results."""
    obr = detail if detail is not None and detail.name == "OBR" else None
    res: dict = {"resourceType": "ServiceRequest", "intent": "order", "status": "active"}
    idents = order_identifiers(ctx, orc, obr)
    if idents:
        res["identifier"] = idents
    if orc is not None:
        status = code(orc.get(5), "OrderStatus") if orc.get(5) else None
        control = code(orc.get(1), "OrderControlCode[ServiceRequest.status]") if orc.get(1) else None
        res["status"] = control if orc.get(1) in ("CA", "CR", "DC", "OC", "OD", "DR", "HD", "RP") and control \
            else status or control or "active"
    concept = codeable(detail.rep(code_field)) if detail is not None else None
    res["code"] = concept or {"text": "unspecified order"}
    if ctx.patient:
        res["subject"] = {"reference": ctx.patient}
    if ctx.encounter:
        res["encounter"] = {"reference": ctx.encounter}
    requester = None
    if orc is not None:
        requester = practitioner.reference(ctx, orc.rep(12))
        with ctx.at(orc, 9):
            authored = date_time(orc.get(9), ctx.tz)
        if authored:
            res["authoredOn"] = authored
    if obr is not None:
        requester = requester or practitioner.reference(ctx, obr.rep(16))
        reasons = [c for c in (codeable(r) for r in obr.reps(31)) if c]
        if reasons:
            res["reasonCode"] = reasons
        with ctx.at(obr, 7):
            occurrence = date_time(obr.get(7), ctx.tz)
        if occurrence:
            res["occurrenceDateTime"] = occurrence
        priority = obr.get(5) or obr.get(27, 6)
        if priority in ("S", "A"):
            res["priority"] = "stat" if priority == "S" else "asap"
    if requester:
        res["requester"] = requester
    if notes:
        res["note"] = list(notes)
    ident = bare_identifier(idents[0]) if idents else ctx.derived_identifier(
        "order", order_key(ctx, orc, obr), detail.get(code_field) if detail is not None else "")
    if not idents:
        res["identifier"] = [ident]
    url = ctx.upsert(res, ident) if update else ctx.ensure(res, ident)
    return url, ctx.resource_of(url)  # the resource in the Bundle (merged, when named twice)


def diagnostic_report(ctx: MapContext, orc: Segment | None, obr: Segment, based_on: str | None,
                      notes: list[dict] = ()) -> tuple[str, dict]:
    res: dict = {"resourceType": "DiagnosticReport", "code": codeable(obr.rep(4)) or {"text": "result"}}
    status = code(obr.get(25), "ResultStatus[Non-Queries]") if obr.get(25) else None
    res["status"] = status or "final"
    idents = order_identifiers(ctx, orc, obr)
    filler = next((i for i in idents if i["type"]["coding"][0]["code"] == "FILL"), None)
    ident = bare_identifier(filler) if filler else ctx.derived_identifier("report", order_key(ctx, orc, obr), obr.get(4))
    res["identifier"] = [ident]
    section = codeable(obr.rep(24), "DiagnosticServiceSectionID", "0074")
    if section:
        res["category"] = [section]
    if based_on:
        res["basedOn"] = [{"reference": based_on}]
    if ctx.patient:
        res["subject"] = {"reference": ctx.patient}
    if ctx.encounter:
        res["encounter"] = {"reference": ctx.encounter}
    with ctx.at(obr, 7):
        effective = date_time(obr.get(7), ctx.tz)
    if effective:
        res["effectiveDateTime"] = effective
    with ctx.at(obr, 22):
        issued = instant(obr.get(22), ctx.tz)
    if issued:
        res["issued"] = issued
    interpreter = obr.rep(32)
    if interpreter is not None and interpreter.get(1):
        res["resultsInterpreter"] = [{"display": interpreter.comp(1).text().replace("&", " ").strip()}]
    if notes:
        res["conclusion"] = "\n".join(n["text"] for n in notes)
    url = ctx.upsert(res, ident)
    return url, ctx.resource_of(url)
