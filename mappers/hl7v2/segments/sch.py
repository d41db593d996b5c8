"""SCH (+ TQ1, AIS, AIG, AIL, AIP, NTE) -> Appointment (IG SCH[Appointment], AIS/AIG/AIL/AIP[Appointment]).

Known by the filler appointment id (SCH-2), else the placer's (SCH-1): booking,
rescheduling (S13), modification (S14) all update one Appointment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import errors as E
from ..context import MapContext
from ..datatypes.codes import code, codeable
from ..datatypes.ids import entity
from ..datatypes.time import date_time
from ..errors import MappingError
from ..message import Message, Segment
from . import location, nte, practitioner

_UNITS = {"min": 1, "MIN": 1, "m": 1, "s": 1 / 60, "S": 1 / 60, "h": 60, "H": 60, "hr": 60, "HR": 60, "d": 1440}


def appointment_identifier(ctx: MapContext, sch: Segment) -> dict:
    for n in (2, 1):
        ident = entity(sch.rep(n), ctx.config)
        if ident:
            return ident
    raise MappingError("SCH-1 or SCH-2 (placer/filler appointment id) is required: the appointment is known by it",
                       "SCH", sch.sequence, 2, E.REQUIRED_FIELD_MISSING)


def appointment(ctx: MapContext, message: Message, sch: Segment, status: str) -> str:
    ident = appointment_identifier(ctx, sch)
    res: dict = {"resourceType": "Appointment", "identifier": [ident], "status": status}
    filler_status = sch.get(25)
    if filler_status and status == "booked":
        res["status"] = code(filler_status, "FillerStatusCodes[Appointment]") or status
    reason = codeable(sch.rep(6), "AppointmentReasonCodes", "0276")
    if reason:
        res["reasonCode"] = [reason]
    kind = codeable(sch.rep(8), "AppointmentTypeCodes", "0277") or codeable(sch.rep(7))
    if kind:
        res["appointmentType"] = kind
    start, end, minutes = _timing(ctx, message, sch)
    if start and end:
        res["start"], res["end"] = start, end
    if minutes:
        res["minutesDuration"] = minutes
    participants = []
    if ctx.patient:
        participants.append({"actor": {"reference": ctx.patient}, "status": "accepted"})
    services = []
    for ais in message.all("AIS"):
        concept = codeable(ais.rep(3))
        if concept:
            services.append(concept)
    if services:
        res["serviceType"] = services
    for aig in message.all("AIG"):  # a resource (equipment, room...) named, not a record of ours
        name = aig.get(3, 2) or aig.get(3, 1)
        if name:
            participants.append(_participant({"display": name}, codeable(aig.rep(4))))
    for ail in message.all("AIL"):
        ref = location.reference(ctx, ail.rep(3))
        if ref:
            participants.append({"actor": ref, "status": "accepted"})
    for aip in message.all("AIP"):
        for rep in aip.reps(3):
            ref = practitioner.reference(ctx, rep)
            if ref:
                participants.append(_participant(ref, codeable(aip.rep(4))))
    if not participants:
        raise MappingError("the appointment has no participant (no PID, AIG, AIL or AIP)", "SCH", sch.sequence,
                           None, E.SEGMENT_SEQUENCE)
    res["participant"] = participants
    comments = nte.annotations([s for s in message.all("NTE")])
    if comments:
        res["comment"] = "\n".join(c["text"] for c in comments)
    description = sch.get(7, 2) or sch.get(7, 1)
    if description:
        res["description"] = description
    return ctx.upsert(res, {k: v for k, v in ident.items() if k in ("system", "value")})


def _participant(actor: dict, role: dict | None) -> dict:
    out = {"actor": actor, "status": "accepted"}
    if role:
        out["type"] = [role]
    return out


def _timing(ctx: MapContext, message: Message, sch: Segment) -> tuple[str | None, str | None, int | None]:
    """Start and end: TQ1-7/8 (v2.5+), else SCH-11.4/11.5 (TQ, older versions), else AIS-4 + duration."""
    tq1 = message.segment("TQ1")
    start = end = None
    if tq1 is not None:
        with ctx.at(tq1, 7):
            start = date_time(tq1.get(7), ctx.tz)
        with ctx.at(tq1, 8):
            end = date_time(tq1.get(8), ctx.tz)
    if not start and sch.get(11, 4):
        with ctx.at(sch, 11):
            start = date_time(sch.get(11, 4), ctx.tz)
            end = date_time(sch.get(11, 5), ctx.tz)
    minutes = None
    if sch.get(9):
        with ctx.at(sch, 9):
            minutes = _minutes(sch.get(9), sch.get(10, 1))
    ais = message.segment("AIS")
    if not start and ais is not None and ais.get(4):
        with ctx.at(ais, 4):
            start = date_time(ais.get(4), ctx.tz)
        if ais.get(7):
            with ctx.at(ais, 7):
                minutes = _minutes(ais.get(7), ais.get(8, 1))
    if start and not end and minutes and len(start) > 10:
        end = (datetime.fromisoformat(start) + timedelta(minutes=minutes)).isoformat()
    return start, end, minutes


def _minutes(value: str, unit: str) -> int:
    if not value.replace(".", "", 1).isdigit():
        raise ValueError(f"duration {value!r} is not a number")
    factor = _UNITS.get(unit or "min")
    if factor is None:
        raise ValueError(f"duration unit {unit!r} is not one of {sorted(_UNITS)}")
    return max(1, round(float(value) * factor))
