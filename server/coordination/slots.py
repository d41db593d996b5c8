"""Slots follow the Appointments that use them: the one place that prevents double booking.

A Slot taken by an Appointment carries the ``slot-holder`` extension (which Appointment)
and, while it is only held (``busy-tentative``), ``hold-expires``. Taking a slot is a
compare-and-set on the Slot's version (``UnitOfWork.update(..., if_match=)``, which locks
the row): of two transactions that read the same free slot, the second one to write
finds a newer version and fails with 409 instead of booking it twice. Slot ids are
taken in sorted order so that two multi-slot bookings cannot deadlock.

``AppointmentSlots`` (a store listener) applies the same rules to every Appointment
written by any path (REST, transactions, feeds): booked/pending take the slots,
cancelled/entered-in-error/deleted free them, noshow keeps them marked busy.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import Conflict, FhirError, NotFound, PreconditionFailed
from .fhirtime import format_instant, parse_instant, to_aware
from .lookup import split_reference

HOLDER = "http://passerelle.example/StructureDefinition/slot-holder"
HOLD_EXPIRES = "http://passerelle.example/StructureDefinition/hold-expires"

# Appointment statuses that occupy their slots (noshow keeps them: the time was used up).
OCCUPYING = frozenset({"pending", "booked", "arrived", "checked-in", "fulfilled", "noshow"})


def extension_value(resource: dict, url: str, key: str):
    for ext in resource.get("extension", []):
        if ext.get("url") == url:
            return ext.get(key)
    return None


def with_extension(resource: dict, url: str, key: str | None, value) -> dict:
    """A copy with extension ``url`` set to {key: value} (or removed when key is None)."""
    others = [e for e in resource.get("extension", []) if e.get("url") != url]
    if key is not None:
        others.append({"url": url, key: value})
    copy = {k: v for k, v in resource.items() if k != "extension"}
    if others:
        copy["extension"] = others
    return copy


def hold_expiry(resource: dict) -> datetime | None:
    value = extension_value(resource, HOLD_EXPIRES, "valueInstant")
    return parse_instant(value, expression="extension") if value else None


def holder_of(slot: dict) -> str | None:
    return (extension_value(slot, HOLDER, "valueReference") or {}).get("reference")


def slot_ids(appointment: dict | None) -> list[str]:
    if not appointment:
        return []
    return [split_reference(s.get("reference", ""), expected="Slot", expression=f"Appointment.slot[{i}]")[1]
            for i, s in enumerate(appointment.get("slot", []))]


def _available(slot: dict, holder: str, now: datetime) -> str | None:
    """None if ``holder`` may take the slot, else why not."""
    current = holder_of(slot)
    if current == holder or slot.get("status") == "free":
        return None
    expires = hold_expiry(slot)
    if current and slot.get("status") == "busy-tentative" and expires is not None and expires <= now:
        return None  # an expired hold is no hold
    if slot.get("status") == "busy-tentative":
        return "is held by another appointment" + (f" until {format_instant(expires)}" if expires else "")
    return f"is {slot.get('status')}" + (" (already booked)" if current else "")


def occupy(uow, ids: list[str], appointment_ref: str, status: str, expires: datetime | None, *,
           strict: bool, expression: str = "Appointment.slot") -> None:
    """Mark the slots taken by ``appointment_ref``; Conflict (409) if one is not available.

    ``strict`` ($hold, $book): every slot must exist and be free (or already this
    appointment's). Not strict (plain writes): unknown slots, and slots made busy by
    something other than an appointment here, are left alone.
    """
    now = to_aware(uow.now)
    target = "busy-tentative" if status == "pending" else "busy"
    for fhir_id in sorted(set(ids)):
        try:
            stored = uow.read("Slot", fhir_id)
        except FhirError as exc:
            if not strict:
                continue
            if isinstance(exc, NotFound) or exc.status == 410:
                exc.expression = [expression]
            raise
        slot = stored.resource()
        if not strict and holder_of(slot) is None and slot.get("status") != "free":
            continue
        why = _available(slot, appointment_ref, now)
        if why:
            raise Conflict(f"Slot/{fhir_id} {why}: choose another slot", expression=expression)
        taken = with_extension(slot, HOLDER, "valueReference", {"reference": appointment_ref})
        taken = with_extension(taken, HOLD_EXPIRES, *(("valueInstant", format_instant(expires))
                                                      if target == "busy-tentative" and expires else (None, None)))
        taken["status"] = target
        if _same(taken, slot):
            continue
        _write(uow, taken, fhir_id, stored.version_id)


def release(uow, ids: list[str], appointment_ref: str) -> None:
    """Free the slots this appointment holds (others' slots are not touched)."""
    for fhir_id in sorted(set(ids)):
        try:
            stored = uow.read("Slot", fhir_id)
        except FhirError:
            continue
        slot = stored.resource()
        if holder_of(slot) != appointment_ref:
            continue
        freed = with_extension(with_extension(slot, HOLDER, None, None), HOLD_EXPIRES, None, None)
        freed["status"] = "free"
        _write(uow, freed, fhir_id, stored.version_id)


def apply(uow, appointment_id: str, new: dict | None, previous: dict | None, *, strict: bool) -> None:
    """Bring the slots in line with an Appointment about to be written (None: deleted)."""
    ref = f"Appointment/{appointment_id}"
    status = (new or {}).get("status")
    wanted = slot_ids(new) if status in OCCUPYING else []
    release(uow, [s for s in slot_ids(previous) + slot_ids(new) if s not in wanted], ref)
    if wanted:
        occupy(uow, wanted, ref, status, hold_expiry(new) if status == "pending" else None, strict=strict)


def _same(a: dict, b: dict) -> bool:
    strip = ("meta",)
    return {k: v for k, v in a.items() if k not in strip} == {k: v for k, v in b.items() if k not in strip}


def _write(uow, slot: dict, fhir_id: str, version_id: int) -> None:
    try:
        uow.update(slot, fhir_id, if_match=version_id)
    except PreconditionFailed:
        # Another transaction wrote this slot between our read and our write.
        raise Conflict(f"Slot/{fhir_id} was just taken by another request: choose another slot",
                       expression="Appointment.slot") from None


class AppointmentSlots:
    """Store listener: every Appointment write keeps its Slots in step (see module doc)."""

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type != "Appointment":
            return
        try:
            previous = uow.read("Appointment", fhir_id).resource()
        except FhirError:
            previous = None
        if resource is None and previous is None:
            return
        apply(uow, fhir_id, resource, previous, strict=False)
