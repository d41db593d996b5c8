"""Hold, book, reschedule and cancel Appointments (IHE ITI-116 / ITI-117).

Each function runs in the caller's write unit of work: the Appointment and its Slots
change together or not at all. Slot availability is decided by ``slots.occupy``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from ..errors import BadRequest, Conflict, Unprocessable
from . import slots
from .fhirtime import format_instant, parse_instant, to_aware
from .lookup import read_reference

REPLACES = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.replaces"
ACTIVE = frozenset({"booked", "arrived", "checked-in"})
FINAL = frozenset({"cancelled", "noshow", "fulfilled", "entered-in-error"})


def load(uow, fhir_id: str) -> tuple[dict, int]:
    stored = uow.read("Appointment", fhir_id)
    return stored.resource(), stored.version_id


def hold(uow, appointment: dict, existing: tuple[dict, int] | None, hold_seconds: int):
    """Put the appointment's slots on hold: Appointment ``pending`` until ``hold-expires``."""
    if existing and existing[0].get("status") not in ("proposed", "pending"):
        raise Conflict(f"Appointment/{existing[0]['id']} is {existing[0].get('status')}: only a proposed or "
                       f"pending appointment can be held", expression="Appointment.status")
    expires = to_aware(uow.now) + timedelta(seconds=hold_seconds)
    held = slots.with_extension({**appointment, "status": "pending"}, slots.HOLD_EXPIRES, "valueInstant",
                                format_instant(expires))
    return _write(uow, _check(uow, held), existing)


def book(uow, appointment: dict, existing: tuple[dict, int] | None):
    """Book; an ``existing`` booked appointment given other slots is rescheduled (the old one
    is cancelled, the new one ``replaces`` it). Returns the stored appointments (new first)."""
    now = to_aware(uow.now)
    if existing:
        current = existing[0]
        status = current.get("status")
        if status in FINAL:
            raise Conflict(f"Appointment/{current['id']} is {status}: it cannot be booked",
                           expression="Appointment.status")
        if status == "pending":
            expires = slots.hold_expiry(current)
            if expires is not None and expires <= now:
                raise Conflict(f"The hold on Appointment/{current['id']} expired at {format_instant(expires)}: "
                               f"hold the slot again", code="business-rule", expression="Appointment.status")
        if status in ACTIVE and _slot_refs(appointment) != _slot_refs(current):
            return reschedule(uow, appointment, existing)
    booked = slots.with_extension({**appointment, "status": "booked"}, slots.HOLD_EXPIRES, None, None)
    booked["participant"] = [_accepted(p) for p in booked.get("participant", [])]
    _require_patient(booked)
    return [_write(uow, _check(uow, booked), existing)]


def reschedule(uow, appointment: dict, existing: tuple[dict, int]):
    old, _version = existing
    cancelled = cancel(uow, existing, reason="rescheduled")
    fresh = {k: v for k, v in appointment.items() if k not in ("id", "meta")}
    fresh = slots.with_extension(fresh, REPLACES, "valueReference", {"reference": f"Appointment/{old['id']}"})
    new = book(uow, fresh, None)[0]
    return [new, cancelled]


def cancel(uow, existing: tuple[dict, int], *, reason: str | None = None):
    current, _version = existing
    if current.get("status") in FINAL:
        raise Conflict(f"Appointment/{current['id']} is already {current.get('status')}",
                       expression="Appointment.status")
    cancelled = slots.with_extension({**current, "status": "cancelled"}, slots.HOLD_EXPIRES, None, None)
    if reason and "cancelationReason" not in cancelled:
        cancelled["cancelationReason"] = {"text": reason}
    return _write(uow, cancelled, existing)


def _write(uow, appointment: dict, existing: tuple[dict, int] | None):
    """Slots first (409 if taken), then the Appointment, in the caller's transaction."""
    if existing:
        current, version = existing
        appointment = {**appointment, "id": current["id"]}
        slots.apply(uow, current["id"], appointment, current, strict=True)
        stored, _ = uow.update(appointment, current["id"], if_match=version)
        return stored
    fhir_id = str(uuid.uuid4())
    slots.apply(uow, fhir_id, {**appointment, "id": fhir_id}, None, strict=True)
    return uow.create({k: v for k, v in appointment.items() if k != "id"}, fhir_id=fhir_id)


def _slot_refs(appointment: dict) -> list[str]:
    return sorted(s.get("reference", "") for s in appointment.get("slot", []))


def _accepted(participant: dict) -> dict:
    return {**participant, "status": "accepted"} if participant.get("status") in (None, "needs-action") else participant


def _require_patient(appointment: dict) -> None:
    if not any(p.get("actor", {}).get("reference", "").split("/")[-2:-1] == ["Patient"]
               for p in appointment.get("participant", [])):
        raise Unprocessable("A booked appointment needs a Patient participant", code="required",
                            expression="Appointment.participant")


def _check(uow, appointment: dict) -> dict:
    """The appointment names its slots and its time lies within them (start/end filled in
    from the slots when absent)."""
    ids = slots.slot_ids(appointment)
    if not ids:
        raise BadRequest("The appointment names no Slot to take", code="required", expression="Appointment.slot")
    spans = []
    for fhir_id in ids:
        slot = read_reference(uow, f"Slot/{fhir_id}", expression="Appointment.slot")
        spans.append((parse_instant(slot["start"], expression="Slot.start"),
                      parse_instant(slot["end"], expression="Slot.end")))
    low, high = min(s for s, _ in spans), max(e for _, e in spans)
    start = _instant(appointment, "start") or low
    end = _instant(appointment, "end") or high
    if start < low or end > high or end <= start:
        raise Unprocessable(f"The appointment ({format_instant(start)} to {format_instant(end)}) does not lie "
                            f"within its slots ({format_instant(low)} to {format_instant(high)})",
                            expression="Appointment.start")
    return {**appointment, "start": format_instant(start), "end": format_instant(end),
            "minutesDuration": appointment.get("minutesDuration") or int((end - start).total_seconds() // 60)}


def _instant(appointment: dict, element: str) -> datetime | None:
    value = appointment.get(element)
    return parse_instant(value, expression=f"Appointment.{element}") if value else None
