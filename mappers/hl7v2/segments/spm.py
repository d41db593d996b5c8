"""SPM -> Specimen (IG SPM[Specimen]); known by SPM-2 (its placer/filler ids)."""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import codeable
from ..datatypes.ids import entity
from ..datatypes.time import date_time
from ..message import Segment


def specimen(ctx: MapContext, seg: Segment, order_key: str = "") -> str | None:
    res: dict = {"resourceType": "Specimen"}
    ids = []
    spm2 = seg.rep(2)
    if spm2 is not None:
        for i in (1, 2):  # EIP: placer id, filler id (each an EI in subcomponents)
            ident = entity(spm2.comp(i), ctx.config)
            if ident:
                ids.append(ident)
    kind = codeable(seg.rep(4), "SpecimenType", "0487")
    if kind:
        res["type"] = kind
    if ctx.patient:
        res["subject"] = {"reference": ctx.patient}
    collection: dict = {}
    with ctx.at(seg, 17):
        collected = date_time(seg.get(17), ctx.tz)
    if collected:
        collection["collectedDateTime"] = collected
    method = codeable(seg.rep(7), "SpecimenCollectionMethod", "0488")
    if method:
        collection["method"] = method
    site = codeable(seg.rep(8))
    if site:
        collection["bodySite"] = site
    if collection:
        res["collection"] = collection
    with ctx.at(seg, 18):
        received = date_time(seg.get(18), ctx.tz)
    if received:
        res["receivedTime"] = received
    conditions = [c for c in (codeable(r, "SpecimenCondition", "0493") for r in seg.reps(24)) if c]
    if conditions:
        res["condition"] = conditions
    if not ids:
        ids = [ctx.derived_identifier("specimen", order_key or ctx.patient_key, seg.get(1))]
    res["identifier"] = ids
    return ctx.upsert(res, {k: v for k, v in ids[0].items() if k in ("system", "value")})
