"""VXU^V04: immunizations (IG VXU_V04). Each RXA is an Immunization; the OBX after it
(funding, eligibility, VIS dates) are Observations filed under it."""

from __future__ import annotations

from ..context import MapContext
from ..message import Message, Segment
from ..segments import obx, rxa
from .common import add_encounter, add_patient, following


def vxu_v04(ctx: MapContext, message: Message) -> None:
    add_patient(ctx, message)
    add_encounter(ctx, message, "")
    orc: Segment | None = None
    for seg in message.segments:
        if seg.name == "ORC":
            orc = seg
        elif seg.name == "RXA":
            group = following(message, seg, ("RXR", "OBX", "NTE"))
            rxr = next((s for s in group if s.name == "RXR"), None)
            url, key = rxa.immunization(ctx, seg, rxr, orc)
            for o in (s for s in group if s.name == "OBX"):
                obx.observation(ctx, o, notes=following(message, o, ("NTE",)), order_key=key, part_of=url)
            orc = None
