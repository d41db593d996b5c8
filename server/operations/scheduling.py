"""Appointment/$find, $hold, $book (IHE ITI Scheduling; Argonaut Scheduling spellings accepted).

The logic lives in ``server.coordination``; this module reads the parameters and shapes
the answers (Bundles of Appointments, as the IHE operations return).
"""

from __future__ import annotations

from ..api.outcome import Answer
from ..authz.guard import check_instance
from ..coordination import booking, params
from ..coordination.fhirtime import to_aware
from ..coordination.find import DEFAULT_WINDOW, FindRequest, find
from ..coordination.lookup import split_reference
from ..errors import BadRequest, NotFound
from .registry import OperationCall, operation

IHE = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-"


@operation("find", definition=IHE + "find", levels=("type",), resource_types=("Appointment",),
           documentation="Proposed Appointments from free Slots (start, end, practitioner, location, "
                         "organization, specialty, visit-type, patient, reason, minutes-duration, _count)")
def find_appointments(call: OperationCall) -> Answer:
    start = params.instant(call, "start") or to_aware(call.uow.now)
    end = params.instant(call, "end") or start + DEFAULT_WINDOW
    request = FindRequest(
        start=start, end=end,
        practitioners=params.references(call, "practitioner", "provider"),
        locations=params.references(call, "location", "location-reference"),
        organizations=params.references(call, "organization", "provider-organization"),
        specialties=params.tokens(call, "specialty"),
        visit_types=params.tokens(call, "visit-type", "service-type"),
        patient=(params.references(call, "patient", "patient-reference") or [None])[0],
        reasons=[v if isinstance(v, dict) else {"text": v} for v in params.raw_values(call, "reason")],
        minutes=params.integer(call, "minutes-duration"),
        count=params.integer(call, "_count", "count") or 10,
    )
    proposals = find(call.uow, request)
    return Answer(200, body={"resourceType": "Bundle", "type": "searchset", "total": len(proposals),
                             "entry": [{"resource": p, "search": {"mode": "match"}} for p in proposals]})


def _given(call: OperationCall, *, required_status: tuple[str, ...] | None = None):
    """(appointment to act on, stored appointment it designates or None)."""
    given = params.resource(call, "appointment-resource", "appt-resource", resource_type="Appointment")
    refs = params.references(call, "appointment-reference", "appt-id")
    if given is None and not refs:
        raise BadRequest("Give 'appointment-resource' (an Appointment from $find) or 'appointment-reference'",
                         code="required", expression="appointment-resource")
    fhir_id = None
    if refs:
        fhir_id = split_reference(refs[0], expected="Appointment", expression="appointment-reference")[1]
    elif given.get("id"):
        fhir_id = given["id"]
    existing = None
    if fhir_id:
        try:
            existing = booking.load(call.uow, fhir_id)
        except NotFound:
            if refs:  # a reference must resolve; a resource's own id may be a client's
                raise
    if given is not None:
        call.uow.store.validate(given)  # R4 structure first: 422 naming the element
    appointment = given if given is not None else existing[0]
    if required_status and appointment.get("status") not in required_status:
        raise BadRequest(f"The appointment's status must be {' or '.join(required_status)}, "
                         f"not {appointment.get('status')!r}", expression="Appointment.status")
    return appointment, existing


def _patient(call: OperationCall) -> str | None:
    """The Patient participant of the appointment acted on (None: none or several): a
    patient's own app may hold and book for that patient (server.authz.operations)."""
    appointment = params.resource(call, "appointment-resource", "appt-resource", resource_type="Appointment")
    refs = params.references(call, "appointment-reference", "appt-id")
    if appointment is None and refs:
        fhir_id = split_reference(refs[0], expected="Appointment", expression="appointment-reference")[1]
        check_instance(call.uow, "r", "Appointment", fhir_id, call.access)  # 404 when out of reach
        appointment = booking.load(call.uow, fhir_id)[0]
    patients = {ref.removeprefix("Patient/") for p in (appointment or {}).get("participant", [])
                if (ref := (p.get("actor") or {}).get("reference", "")).startswith("Patient/")}
    return patients.pop() if len(patients) == 1 else None


def _bundle(call: OperationCall, stored: list) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(stored), "entry": [
        {"fullUrl": f"{call.base}/{s.resource_type}/{s.id}", "resource": s.resource(), "search": {"mode": "match"}}
        for s in stored]}


@operation("hold", definition=IHE + "hold", levels=("type",), resource_types=("Appointment",), affects_state=True,
           patient_compartment=_patient,
           documentation="Hold a proposed Appointment's slots for PASSERELLE_HOLD_SECONDS")
def hold_appointment(call: OperationCall) -> Answer:
    appointment, existing = _given(call, required_status=("proposed", "pending"))
    stored = booking.hold(call.uow, appointment, existing, call.ctx.settings.hold_seconds)
    return Answer(200 if existing else 201, body=_bundle(call, [stored]))


@operation("book", definition=IHE + "book", levels=("type",), resource_types=("Appointment",), affects_state=True,
           patient_compartment=_patient,
           documentation="Book (or reschedule, or cancel with status=cancelled) an Appointment")
def book_appointment(call: OperationCall) -> Answer:
    appointment, existing = _given(call)
    if appointment.get("status") == "cancelled":
        if existing is None:
            raise BadRequest("Cancelling needs the id of a stored appointment", expression="Appointment.id")
        return Answer(200, body=_bundle(call, [booking.cancel(call.uow, existing)]))
    stored = booking.book(call.uow, appointment, existing)
    return Answer(200 if existing and len(stored) == 1 else 201, body=_bundle(call, stored))
