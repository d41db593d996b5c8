"""AL1 and IAM -> AllergyIntolerance (IG AL1[AllergyIntolerance], IAM[AllergyIntolerance]).

Known by IAM-7 when sent, else by the patient and the allergen, so that every ADT
repeating the allergy list updates the same resources instead of adding copies.
"""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import code, codeable
from ..datatypes.ids import entity
from ..datatypes.time import date_time
from ..message import Segment

_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def allergy(ctx: MapContext, seg: Segment) -> str | None:
    allergen = codeable(seg.rep(3))
    if allergen is None:
        return None
    res: dict = {"resourceType": "AllergyIntolerance",
                 "clinicalStatus": {"coding": [{"system": _CLINICAL, "code": "active"}]},
                 "code": allergen, "patient": {"reference": ctx.patient}}
    kind = seg.get(2)
    category = code(kind, "AllergenType[AllergyIntoleranceCategory]") if kind else None
    if category:
        res["category"] = [category]
    allergy_type = code(kind, "AllergyType") if kind else None
    if allergy_type in ("allergy", "intolerance"):
        res["type"] = allergy_type
    severity = seg.get(4)
    criticality = code(severity, "AllergySeverity[AllergyIntolerance.criticality]") if severity else None
    if criticality:
        res["criticality"] = criticality
    reactions = [{"text": r.text()} for r in seg.reps(5) if r.text()]
    if reactions:
        reaction: dict = {"manifestation": reactions}
        rs = code(severity, "AllergySeverity[AllergyIntolerance.reaction.severity]") if severity else None
        if rs:
            reaction["severity"] = rs
        res["reaction"] = [reaction]
    ident = None
    if seg.name == "IAM":
        with ctx.at(seg, 11):
            onset = date_time(seg.get(11), ctx.tz)
        if onset:
            res["onsetDateTime"] = onset
        ident = entity(seg.rep(7), ctx.config)
        if seg.get(6) == "D":  # IAM-6 action code: delete
            res["verificationStatus"] = {"coding": [{"system": _VERIFICATION, "code": "entered-in-error"}]}
            res.pop("clinicalStatus")
    else:
        with ctx.at(seg, 6):
            onset = date_time(seg.get(6), ctx.tz)
        if onset:
            res["onsetDateTime"] = onset
    if ident is None:
        key = seg.get(3, 1) or seg.get(3, 2)
        ident = ctx.derived_identifier("allergy", ctx.patient_key, seg.get(3, 3), key)
    res["identifier"] = [ident]
    return ctx.upsert(res, ident)
