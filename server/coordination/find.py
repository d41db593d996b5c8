"""Appointment/$find: proposed Appointments from free Slots (IHE ITI-115).

What the visit needs decides which calendars count: the practitioners asked for, the
locations asked for (both when both are given: a time is proposed only when a slot of
each is free), or any calendar offering the specialty / visit type. A visit longer than
one slot takes consecutive free slots of the same calendar. Times overlapping the
patient's own appointments are left out. Slots held by an expired hold count as free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..errors import BadRequest
from .fhirtime import format_instant, parse_instant, to_aware
from .lookup import reference_of, search, split_reference, token_matches
from .slots import HOLDER, hold_expiry

# Slots are read a chunk of the window at a time, earliest first: a week of a few
# calendars, a day of many (then by day alone: a list of hundreds of schedules in the
# query costs more than filtering their slots here). Days are asked as ``start=<date>``
# (one index range each): measured at 418k Slots on SQLite, ``start=ge…&start=lt…`` or a
# ``status`` criterion makes the same query 5 to 20 times slower, so status and exact
# bounds are checked here.
WINDOW_CHUNK, MANY_CHUNK = timedelta(days=7), timedelta(days=1)
MANY_CALENDARS = 20
DEFAULT_WINDOW = timedelta(days=30)
MAX_WINDOW = timedelta(days=400)
BUSY_FOR_PATIENT = "pending,booked,arrived,checked-in"


@dataclass
class FindRequest:
    start: datetime
    end: datetime
    practitioners: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)  # tokens: system|code or code
    visit_types: list[str] = field(default_factory=list)
    patient: str | None = None
    reasons: list[dict] = field(default_factory=list)  # CodeableConcepts
    minutes: int | None = None  # visit duration; None: one slot
    count: int = 10

    def check(self) -> None:
        if self.end <= self.start:
            raise BadRequest("'end' must be after 'start'", expression="end")
        if self.end - self.start > MAX_WINDOW:
            raise BadRequest(f"The window may span at most {MAX_WINDOW.days} days", expression="end")
        if self.minutes is not None and not 0 < self.minutes <= 24 * 60:
            raise BadRequest("'minutes-duration' must be between 1 and 1440", expression="minutes-duration")
        if self.count < 1:
            raise BadRequest("_count must be at least 1", expression="_count")


@dataclass
class Calendar:
    """A Schedule with its free slots, by start."""

    schedule: dict
    actors: set[str]
    slots: list[dict] = field(default_factory=list)


def find(uow, request: FindRequest) -> list[dict]:
    """Up to ``request.count`` proposed Appointments (not stored), earliest first."""
    request.check()
    practitioners = set(request.practitioners) | _practitioners_of(uow, request.organizations)
    if request.organizations and not practitioners:
        return []  # the organizations have no practitioner: nothing can be proposed
    needs = [group for group in (practitioners, set(request.locations)) if group]
    calendars = _calendars(uow, set().union(*needs) if needs else None)
    if not calendars:
        return []
    patient_busy = _patient_busy(uow, request)
    now = to_aware(uow.now)
    proposals: list[dict] = []
    low = request.start
    chunk = WINDOW_CHUNK if len(calendars) <= MANY_CALENDARS else MANY_CHUNK
    while low < request.end and len(proposals) < request.count:
        high = min(low + chunk, request.end)
        _load_slots(uow, calendars, low, high, request, now)
        proposals += _propose(calendars, needs, request, patient_busy, low, high)
        low = high
    proposals.sort(key=lambda p: (p["start"], p["slot"][0]["reference"]))
    return proposals[:request.count]


def _practitioners_of(uow, organizations: list[str]) -> set[str]:
    """Practitioners with an active PractitionerRole at one of the organizations."""
    if not organizations:
        return set()
    roles = search(uow, "PractitionerRole", [("organization", ",".join(organizations)), ("active:not", "false")])
    return {role["practitioner"]["reference"] for role in roles if role.get("practitioner", {}).get("reference")}


def _calendars(uow, actors: set[str] | None) -> dict[str, Calendar]:
    params = [("active:not", "false")]
    if actors is not None:
        params.append(("actor", ",".join(sorted(actors))))
    calendars = {}
    for schedule in search(uow, "Schedule", params):
        refs = {a.get("reference") for a in schedule.get("actor", []) if a.get("reference")}
        calendars[schedule["id"]] = Calendar(schedule, refs)
    return calendars


def _load_slots(uow, calendars: dict[str, Calendar], low: datetime, high: datetime, request: FindRequest,
                now: datetime) -> None:
    for calendar in calendars.values():
        calendar.slots = []
    params = [("start", ",".join(_days(low, high)))]
    if len(calendars) <= MANY_CALENDARS:
        params.append(("schedule", ",".join(f"Schedule/{sid}" for sid in sorted(calendars))))
    for slot in search(uow, "Slot", params):
        status = slot.get("status")
        if status != "free" and not (status == "busy-tentative" and _hold_expired(slot, now)):
            continue
        calendar = calendars.get(split_reference(slot["schedule"]["reference"], expression="Slot.schedule")[1])
        if calendar is not None and _offers(slot, calendar.schedule, request):
            calendar.slots.append(slot)
    for calendar in calendars.values():
        calendar.slots.sort(key=lambda s: parse_instant(s["start"], expression="Slot.start"))


def _days(low: datetime, high: datetime) -> list[str]:
    """The UTC dates that [low, high) touches."""
    day, last = low.date(), (high - timedelta(microseconds=1)).date()
    out = []
    while day <= last:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def _hold_expired(slot: dict, now: datetime) -> bool:
    expires = hold_expiry(slot)
    return any(e.get("url") == HOLDER for e in slot.get("extension", [])) and expires is not None and expires <= now


def _offers(slot: dict, schedule: dict, request: FindRequest) -> bool:
    """The slot (or, when the slot says nothing, its schedule) offers the specialty / visit type."""
    for tokens, elements in ((request.specialties, ("specialty",)),
                             (request.visit_types, ("serviceType", "appointmentType"))):
        if not tokens:
            continue
        concepts = [c for e in elements for c in _as_list(slot.get(e))]
        if not concepts:
            concepts = [c for e in elements for c in _as_list(schedule.get(e))]
        if not any(token_matches(t, concepts) for t in tokens):
            return False
    return True


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


def _patient_busy(uow, request: FindRequest) -> list[tuple[datetime, datetime]]:
    if not request.patient:
        return []
    appointments = search(uow, "Appointment", [
        ("patient", request.patient), ("status", BUSY_FOR_PATIENT),
        ("date", f"lt{format_instant(request.end)}"),
        ("date", f"ge{format_instant(request.start - timedelta(days=1))}"),
    ])
    return [(parse_instant(a["start"], expression="Appointment.start"),
             parse_instant(a["end"], expression="Appointment.end"))
            for a in appointments if a.get("start") and a.get("end")]


def _runs(calendar: Calendar, minutes: int | None, low: datetime, high: datetime):
    """(start, end, slots) for each start in [low, high) covered by consecutive free slots."""
    slots = [(parse_instant(s["start"], expression="Slot.start"), parse_instant(s["end"], expression="Slot.end"), s)
             for s in calendar.slots]
    for i, (start, end, _) in enumerate(slots):
        if not low <= start < high:
            continue
        wanted = start + timedelta(minutes=minutes) if minutes else end
        taken, j, reach = [], i, start
        while j < len(slots) and slots[j][0] == reach and reach < wanted:
            taken.append(slots[j][2])
            reach = slots[j][1]
            j += 1
        if reach >= wanted:
            yield start, wanted, taken


def _cover(calendars: list[Calendar], start: datetime, end: datetime) -> tuple[list[dict], Calendar] | None:
    """Consecutive free slots of one of these calendars covering [start, end), or None."""
    for calendar in calendars:
        taken: list[dict] = []
        reach = None
        for slot in calendar.slots:
            slot_start = parse_instant(slot["start"], expression="Slot.start")
            slot_end = parse_instant(slot["end"], expression="Slot.end")
            if slot_end <= start:
                continue
            if reach is None and slot_start > start or reach is not None and slot_start != reach:
                break
            taken.append(slot)
            reach = slot_end
            if reach >= end:
                return taken, calendar
    return None


def _propose(calendars: dict[str, Calendar], needs: list[set[str]], request: FindRequest,
             patient_busy, low: datetime, high: datetime) -> list[dict]:
    primary = needs[0] if needs else None
    proposals = []
    for calendar in calendars.values():
        if primary is not None and not calendar.actors & primary:
            continue
        for start, end, slots in _runs(calendar, request.minutes, low, high):
            if start < request.start or end > request.end:
                continue
            if any(b_start < end and start < b_end for b_start, b_end in patient_busy):
                continue
            chosen, actors = list(slots), set(calendar.actors)
            for group in needs[1:]:
                if actors & group:
                    continue
                others = [c for c in calendars.values() if c.actors & group]
                covered = _cover(others, start, end)
                if covered is None:
                    break
                chosen += covered[0]
                actors |= covered[1].actors
            else:
                proposals.append(_appointment(start, end, chosen, actors, calendar, request))
    return proposals


def _appointment(start: datetime, end: datetime, slots: list[dict], actors: set[str], calendar: Calendar,
                 request: FindRequest) -> dict:
    first = slots[0]
    appointment = {
        "resourceType": "Appointment",
        "status": "proposed",
        "start": format_instant(start),
        "end": format_instant(end),
        "minutesDuration": int((end - start).total_seconds() // 60),
        "slot": [{"reference": reference_of(s)} for s in slots],
        "participant": [{"actor": {"reference": a}, "required": "required", "status": "needs-action"}
                        for a in sorted(actors)],
    }
    for element, source in (("serviceType", "serviceType"), ("specialty", "specialty"),
                            ("appointmentType", "appointmentType")):
        value = first.get(source) or calendar.schedule.get(source)
        if value:
            appointment[element] = value
    if request.patient:
        appointment["participant"].append(
            {"actor": {"reference": request.patient}, "required": "required", "status": "needs-action"})
    if request.reasons:
        appointment["reasonCode"] = request.reasons
    return appointment
