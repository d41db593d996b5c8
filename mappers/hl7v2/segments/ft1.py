"""FT1 -> ChargeItem (financial transaction of DFT^P03).

Known by FT1-2 (transaction id), else by patient, visit, code and date.
"""

from __future__ import annotations

from decimal import Decimal

from ..context import MapContext
from ..datatypes.codes import codeable
from ..datatypes.quantity import decimal, json_number
from ..datatypes.time import date_time
from ..message import Segment
from . import practitioner


def charge_item(ctx: MapContext, seg: Segment) -> str:
    concept = codeable(seg.rep(7)) or {"text": seg.get(8) or "unspecified charge"}
    res: dict = {"resourceType": "ChargeItem", "status": "billable", "code": concept,
                 "subject": {"reference": ctx.patient}}
    if ctx.encounter:
        res["context"] = {"reference": ctx.encounter}
    with ctx.at(seg, 4):
        when = date_time(seg.get(4, 1), ctx.tz)
    if when:
        res["occurrenceDateTime"] = when
    if seg.get(6) in ("CR", "AJ"):  # credit, adjustment: not billable as such
        res["status"] = "not-billable" if seg.get(6) == "AJ" else "billed"
    if seg.get(10):
        with ctx.at(seg, 10):
            res["quantity"] = {"value": json_number(decimal(seg.get(10)))}
    if seg.get(11):
        with ctx.at(seg, 11):
            amount: Decimal = decimal(seg.get(11, 1, 1))  # CP-1 price (MO: quantity & denomination)
        res["priceOverride"] = {"value": json_number(amount)}
        if seg.get(11, 1, 2):
            res["priceOverride"]["currency"] = seg.get(11, 1, 2)
    performers = [p for p in (practitioner.reference(ctx, r) for r in seg.reps(20)) if p]
    if performers:
        res["performer"] = [{"actor": p} for p in performers]
    enterer = practitioner.reference(ctx, seg.rep(24))
    if enterer:
        res["enterer"] = enterer
    ident_value = seg.get(2)
    if ident_value:
        ident = {"system": ctx.source + ":transaction", "value": ident_value}
    else:
        ident = ctx.derived_identifier("charge", ctx.patient_key, seg.get(7, 1), seg.get(4, 1), seg.get(1))
    res["identifier"] = [ident]
    return ctx.upsert(res, ident)
