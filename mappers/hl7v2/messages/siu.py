"""SIU: scheduling (IG SIU_S12). S12 books, S13 reschedules and S14 modifies the one
Appointment known by SCH-2; S15 cancels it and S26 records a no-show, by patching
its status (the rest of the appointment stays as it was)."""

from __future__ import annotations

from ..context import MapContext
from ..message import Message
from ..segments import sch
from .common import add_encounter, add_patient

EVENTS = ("S12", "S13", "S14", "S15", "S26")


def siu(ctx: MapContext, message: Message) -> None:
    event = message.header.trigger_event
    seg = message.segment("SCH")
    ctx.require(seg, "SCH")
    if message.segment("PID") is not None:
        add_patient(ctx, message)
        add_encounter(ctx, message, "")
    if event in ("S15", "S26"):
        ident = sch.appointment_identifier(ctx, seg)
        ident = {k: v for k, v in ident.items() if k in ("system", "value")}
        status = "cancelled" if event == "S15" else "noshow"
        ops = [[{"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Appointment.status"},
                {"name": "value", "valueCode": status}]]
        ctx.patch("Appointment", ident, ops, event)
        return
    sch.appointment(ctx, message, seg, "booked")
