"""Z-segments, mapped only as the site configures: a field into an extension."""

from __future__ import annotations

from ..context import MapContext
from ..datatypes.codes import codeable
from ..datatypes.ids import identifier
from ..datatypes.time import date_time
from ..message import Message


def apply(ctx: MapContext, message: Message, resource_type: str, resource: dict) -> None:
    for z in ctx.config.z_segments:
        if z.resource != resource_type:
            continue
        for seg in message.all(z.segment):
            with ctx.at(seg, z.field):
                value = _value(ctx, seg, z)
            if value is not None:
                resource.setdefault("extension", []).append({"url": z.url, **value})


def _value(ctx: MapContext, seg, z) -> dict | None:
    rep = seg.rep(z.field)
    if rep is None:
        return None
    if z.type == "CodeableConcept":
        concept = codeable(rep)
        return {"valueCodeableConcept": concept} if concept else None
    if z.type == "Identifier":
        ident = identifier(rep, ctx.config, ctx.tz)
        return {"valueIdentifier": ident} if ident else None
    text = rep.get(1)
    if not text:
        return None
    if z.type == "dateTime":
        return {"valueDateTime": date_time(text, ctx.tz)}
    if z.type == "boolean":
        if text not in ("Y", "N"):
            raise ValueError(f"{text!r} is not Y or N")
        return {"valueBoolean": text == "Y"}
    if z.type == "integer":
        return {"valueInteger": int(text)}
    return {f"value{z.type[0].upper()}{z.type[1:]}": text}
