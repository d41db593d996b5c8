"""IN1 (+ IN2) -> Coverage (IG IN1[Coverage]); the payer as a display reference.

Known by the policy number (IN1-36) under the insurer (IN1-3), else by patient, insurer and plan.
"""

from __future__ import annotations

from .. import errors as E
from ..context import MapContext
from ..datatypes.codes import codeable
from ..datatypes.time import date_time
from ..errors import MappingError
from ..message import Segment

_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"


def coverage(ctx: MapContext, seg: Segment, in2: Segment | None = None) -> str | None:
    insurer_id, insurer_name = seg.get(3), seg.get(4)
    plan = seg.rep(2)
    if not (insurer_id or insurer_name or plan):
        return None
    if not (insurer_id or insurer_name):
        raise MappingError("IN1-3 (insurance company id) or IN1-4 (its name) is required: a coverage needs its payer",
                           "IN1", seg.sequence, 3, E.REQUIRED_FIELD_MISSING)
    payor = {"display": insurer_name or insurer_id}
    if insurer_id:
        payor["identifier"] = {"value": insurer_id}
    res: dict = {"resourceType": "Coverage", "status": "active", "beneficiary": {"reference": ctx.patient},
                 "payor": [payor]}
    if plan is not None and plan.get(1):
        res["class"] = [{"type": {"coding": [{"system": _CLASS, "code": "plan"}]}, "value": plan.get(1),
                         **({"name": plan.get(2)} if plan.get(2) else {})}]
    kind = codeable(seg.rep(15), None, "0086")
    if kind:
        res["type"] = kind
    with ctx.at(seg, 12):
        start = date_time(seg.get(12))
    with ctx.at(seg, 13):
        end = date_time(seg.get(13))
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    if period:
        res["period"] = period
    relation = codeable(seg.rep(17), None, "0063")
    if relation:
        res["relationship"] = relation
    subscriber = seg.get(49) or seg.get(36) or (in2.get(1) if in2 is not None else "")
    if subscriber:
        res["subscriberId"] = subscriber
    policy = seg.get(36)
    if policy:
        system = ctx.config.identifier_system(insurer_id) if insurer_id else None  # policies are per insurer
        ident = {"system": system, "value": policy} if system else {"value": policy}
    else:
        ident = ctx.derived_identifier("coverage", ctx.patient_key, insurer_id or insurer_name,
                                       plan.get(1) if plan is not None else "")
    res["identifier"] = [ident]
    return ctx.upsert(res, ident)
