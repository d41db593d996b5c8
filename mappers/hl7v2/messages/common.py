"""Pieces every message family shares: the patient, the visit, and the segments that
hang off them (allergies, diagnoses, procedures, insurance, observations)."""

from __future__ import annotations

from .. import errors as E
from ..context import MapContext
from ..errors import MappingError
from ..message import Message, Segment
from ..segments import al1, dg1, in1, obx, pid, pr1, pv1, zseg


def following(message: Message, start: Segment, names: tuple[str, ...]) -> list[Segment]:
    """The segments named ``names`` that come right after ``start`` (its group)."""
    out = []
    for seg in message.segments[start.position + 1:]:
        if seg.name not in names:
            break
        out.append(seg)
    return out


def add_patient(ctx: MapContext, message: Message, pid_seg: Segment | None = None, *, update: bool = False) -> str:
    """The Patient of PID: updated from it (``update``: ADT demographic events), or only
    created when unknown (every other message references the patient it names)."""
    pid_seg = pid_seg or message.segment("PID")
    ctx.require(pid_seg, "PID")
    group = following(message, pid_seg, ("PD1", "NK1", "ARV", "ROL", "PRT"))
    pd1 = next((s for s in group if s.name == "PD1"), None)
    nk1s = list(message.all("NK1"))
    resource, ident = pid.patient(ctx, pid_seg, pd1, nk1s)
    zseg.apply(ctx, message, "Patient", resource)
    ctx.patient = ctx.upsert(resource, ident) if update else ctx.ensure(resource, ident)
    ctx.patient_key = f"{ident.get('system', '')}|{ident['value']}"
    return ctx.patient


def add_encounter(ctx: MapContext, message: Message, event: str, *, required: bool = False,
                  update: bool = False) -> str | None:
    """The visit of PV1, known by its visit number: updated from PV1 (``update``: ADT
    events), else only created when unknown. Without a number it is created, unless the
    event updates a visit (then PV1-19 is required)."""
    pv1_seg = message.segment("PV1")
    if pv1_seg is None or pv1_seg.get(2) == "N" and not pv1_seg.get(19):
        if required:
            ctx.require(pv1_seg, "PV1", 19, "visit number")
        return None
    resource, ident = pv1.encounter(ctx, pv1_seg, message.segment("PV2"), event)
    zseg.apply(ctx, message, "Encounter", resource)
    if ident is None:
        if required:
            raise MappingError(f"PV1-19 (visit number) is required for {message.type}: the visit to update "
                               "is found by it", "PV1", pv1_seg.sequence, 19, E.REQUIRED_FIELD_MISSING)
        ctx.encounter = ctx.create(resource, "encounter")
    else:
        ctx.encounter = ctx.upsert(resource, ident) if update else ctx.ensure(resource, ident)
    return ctx.encounter


def add_clinical(ctx: MapContext, message: Message) -> None:
    """AL1/IAM, DG1, PR1, IN1(+IN2), and OBX outside any order: they describe the patient."""
    for seg in message.all("AL1") + message.all("IAM"):
        al1.allergy(ctx, seg)
    for seg in message.all("DG1"):
        dg1.condition(ctx, seg)
    for seg in message.all("PR1"):
        pr1.procedure(ctx, seg)
    for seg in message.all("IN1"):
        in2 = next((s for s in following(message, seg, ("IN2", "IN3")) if s.name == "IN2"), None)
        in1.coverage(ctx, seg, in2)
    for seg in message.all("OBX"):
        obx.observation(ctx, seg, notes=following(message, seg, ("NTE",)))
