"""PR1 -> Procedure (IG PR1[Procedure]); known by PR1-19, else patient, code and date."""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import codeable
from ..datatypes.ids import entity
from ..datatypes.time import date_time
from ..message import Segment
from . import practitioner


def procedure(ctx: MapContext, seg: Segment) -> str | None:
    concept = codeable(seg.rep(3)) or ({"text": seg.get(4)} if seg.get(4) else None)
    if concept is None:
        return None
    res: dict = {"resourceType": "Procedure", "status": "completed", "code": concept,
                 "subject": {"reference": ctx.patient}}
    if ctx.encounter:
        res["encounter"] = {"reference": ctx.encounter}
    with ctx.at(seg, 5):
        when = date_time(seg.get(5), ctx.tz)
    if when:
        res["performedDateTime"] = when
    performers = [p for p in (practitioner.reference(ctx, r) for r in seg.reps(11) + seg.reps(12)) if p]
    if performers:
        res["performer"] = [{"actor": p} for p in performers]
    ident = entity(seg.rep(19), ctx.config) or ctx.derived_identifier(
        "procedure", ctx.patient_key, seg.get(3, 3), seg.get(3, 1) or seg.get(4), seg.get(5))
    res["identifier"] = [ident]
    return ctx.upsert(res, ident)
