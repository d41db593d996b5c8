"""DG1 -> Condition (IG DG1[Condition]), linked to the patient and the visit.

Known by DG1-20 when sent, else by patient, visit and code.
"""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import codeable
from ..datatypes.ids import entity
from ..datatypes.time import date_time
from ..message import Segment
from . import practitioner

_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def condition(ctx: MapContext, seg: Segment) -> str | None:
    concept = codeable(seg.rep(3)) or ({"text": seg.get(4)} if seg.get(4) else None)
    if concept is None:
        return None
    res: dict = {"resourceType": "Condition", "code": concept, "subject": {"reference": ctx.patient},
                 "category": [{"coding": [{"system": _CATEGORY, "code": "encounter-diagnosis"}]}]}
    if ctx.encounter:
        res["encounter"] = {"reference": ctx.encounter}
    with ctx.at(seg, 5):
        when = date_time(seg.get(5), ctx.tz)
    if when:
        res["recordedDate"] = when
    kind = codeable(seg.rep(6), None, "0052")
    if kind:
        res["category"].append(kind)
    clinician = practitioner.reference(ctx, seg.rep(16))
    if clinician:
        res["asserter"] = clinician
    ident = entity(seg.rep(20), ctx.config)
    if ident is None:
        visit = ctx.encounter or ""
        ident = ctx.derived_identifier("condition", ctx.patient_key, visit and _visit_key(ctx),
                                       seg.get(3, 3), seg.get(3, 1) or seg.get(4))
    res["identifier"] = [ident]
    url = ctx.upsert(res, ident)
    encounter = ctx.resource_of(ctx.encounter) if ctx.encounter else None
    if encounter is not None:  # DG1[Encounter]: the visit lists its diagnoses, ranked by DG1-15
        diagnosis = {"condition": {"reference": url}}
        if seg.get(15).isdigit():
            diagnosis["rank"] = int(seg.get(15))
        encounter.setdefault("diagnosis", []).append(diagnosis)
    return url


def _visit_key(ctx: MapContext) -> str:
    pv1 = ctx.message.segment("PV1")
    return pv1.get(19) if pv1 is not None else ""
