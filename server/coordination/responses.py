"""AppointmentResponse -> the Appointment's participant status (R4 Appointment workflow).

A participant's reply is recorded on the Appointment it answers. A ``proposed`` or
``pending`` Appointment whose required participants have all accepted becomes
``booked`` (its slots taken as for any booking: 409 when another appointment has them).
A decline is recorded; what follows (another time, a cancellation) is the scheduler's call.
"""

from __future__ import annotations

from ..errors import Unprocessable
from . import slots
from .lookup import read_reference

AWAITING = ("proposed", "pending")


def answer(uow, response: dict) -> None:
    where = "AppointmentResponse.appointment"
    reference = (response.get("appointment") or {}).get("reference", "")
    appointment = read_reference(uow, reference, expected="Appointment", expression=where)
    version = uow.read("Appointment", appointment["id"]).version_id
    actor = (response.get("actor") or {}).get("reference")
    participants = appointment.get("participant", [])
    matching = [p for p in participants if actor and (p.get("actor") or {}).get("reference") == actor]
    if not matching:
        raise Unprocessable(f"{actor or 'The response'} is not a participant of {reference}",
                            code="business-rule", expression="AppointmentResponse.actor")
    for participant in matching:
        participant["status"] = response["participantStatus"]
    if appointment.get("status") in AWAITING and all(
            p.get("status") == "accepted" for p in participants if p.get("required", "required") == "required"):
        previous = uow.read("Appointment", appointment["id"]).resource()
        appointment["status"] = "booked"
        appointment = slots.with_extension(appointment, slots.HOLD_EXPIRES, None, None)
        slots.apply(uow, appointment["id"], appointment, previous, strict=False)
    uow.update(appointment, appointment["id"], if_match=version)


class AppointmentResponses:
    """Store listener: each new or changed AppointmentResponse updates its Appointment."""

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type == "AppointmentResponse" and resource is not None:
            answer(uow, resource)
