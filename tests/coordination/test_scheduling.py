"""Appointment/$find, $hold, $book over HTTP, and Slots kept in step with Appointments."""

from __future__ import annotations

import time
from dataclasses import replace

from server.coordination.find import MANY_CALENDARS
from tests.coordination.helpers import at, calendar, created, parameters, quarter_hours

WINDOW = {"start": {"valueDateTime": at(0, 0)}, "end": {"valueDateTime": at(23, 59)}}


def practitioner(fhir, **extra) -> str:
    return "Practitioner/" + created(fhir.post("/Practitioner", json={"resourceType": "Practitioner", **extra}))["id"]


def patient(fhir) -> str:
    return "Patient/" + created(fhir.post("/Patient", json={"resourceType": "Patient"}))["id"]


def find(fhir, **values):
    response = fhir.post("/Appointment/$find", json=parameters(**WINDOW, **values))
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", [])]


def slot_status(fhir, slot: dict) -> str:
    return fhir.get(f"/Slot/{slot['id']}").json()["status"]


def test_find_proposes_free_slots_earliest_first(fhir):
    doc = practitioner(fhir)
    _, slots = calendar(fhir, doc, quarter_hours(9, 4), status={1: "busy-unavailable"})
    proposals = find(fhir, practitioner={"valueReference": {"reference": doc}})
    assert [p["start"] for p in proposals] == [at(9, 0), at(9, 30), at(9, 45)]
    assert all(p["status"] == "proposed" and p["minutesDuration"] == 15 for p in proposals)
    assert proposals[0]["slot"] == [{"reference": f"Slot/{slots[0]['id']}"}]
    assert {"reference": doc} in [p["actor"] for p in proposals[0]["participant"]]
    assert len(find(fhir, practitioner={"valueReference": {"reference": doc}}, _count={"valueInteger": 2})) == 2
    # Argonaut's spelling of the practitioner, as a GET
    response = fhir.get("/Appointment/$find", params={"provider": doc, "start": at(9, 20), "end": at(10, 0)})
    assert [e["resource"]["start"] for e in response.json()["entry"]] == [at(9, 30), at(9, 45)]
    other = practitioner(fhir)
    assert find(fhir, practitioner={"valueReference": {"reference": other}}) == []


def test_find_honours_visit_duration_with_consecutive_slots(fhir):
    doc = practitioner(fhir)
    calendar(fhir, doc, quarter_hours(9, 4), status={2: "busy"})
    proposals = find(fhir, practitioner={"valueReference": {"reference": doc}},
                     minutes_duration={"valueInteger": 30})
    assert [(p["start"], p["end"], len(p["slot"])) for p in proposals] == [(at(9, 0), at(9, 30), 2)]


def test_find_needs_practitioner_and_location_free_together(fhir):
    doc = practitioner(fhir)
    room = "Location/" + created(fhir.post("/Location", json={"resourceType": "Location", "name": "Salle 2"}))["id"]
    _, doc_slots = calendar(fhir, doc, quarter_hours(9, 4))
    _, room_slots = calendar(fhir, room, quarter_hours(9, 4), status={0: "busy", 2: "busy"})
    proposals = find(fhir, practitioner={"valueReference": {"reference": doc}},
                     location={"valueReference": {"reference": room}})
    assert [p["start"] for p in proposals] == [at(9, 15), at(9, 45)]
    assert {s["reference"] for s in proposals[0]["slot"]} == {f"Slot/{doc_slots[1]['id']}",
                                                              f"Slot/{room_slots[1]['id']}"}
    assert {doc, room} <= {p["actor"]["reference"] for p in proposals[0]["participant"]}


def test_find_leaves_out_the_patients_own_appointments(fhir, coordination):
    doc, other = practitioner(fhir), practitioner(fhir)
    pat = patient(fhir)
    calendar(fhir, doc, quarter_hours(9, 3))
    created(fhir.post("/Appointment", json={
        "resourceType": "Appointment", "status": "booked", "start": at(9, 10), "end": at(9, 20),
        "participant": [{"actor": {"reference": pat}, "status": "accepted"},
                        {"actor": {"reference": other}, "status": "accepted"}]}))
    proposals = find(fhir, practitioner={"valueReference": {"reference": doc}},
                     patient={"valueReference": {"reference": pat}})
    assert [p["start"] for p in proposals] == [at(9, 30)]
    assert {"reference": pat} in [x["actor"] for x in proposals[0]["participant"]]


def test_find_by_specialty_visit_type_and_organization(fhir):
    cardio = {"coding": [{"system": "http://snomed.info/sct", "code": "394579002"}]}
    org = "Organization/" + created(fhir.post("/Organization", json={"resourceType": "Organization"}))["id"]
    doc, other = practitioner(fhir), practitioner(fhir)
    created(fhir.post("/PractitionerRole", json={"resourceType": "PractitionerRole", "practitioner": {"reference": doc},
                                                "organization": {"reference": org}}))
    calendar(fhir, doc, quarter_hours(9, 1), specialty=[cardio])
    calendar(fhir, other, quarter_hours(10, 1))
    by_specialty = find(fhir, specialty={"valueCoding": cardio["coding"][0]})
    assert [p["start"] for p in by_specialty] == [at(9, 0)]
    assert by_specialty[0]["specialty"] == [cardio]
    assert [p["start"] for p in find(fhir, organization={"valueReference": {"reference": org}})] == [at(9, 0)]
    assert len(find(fhir)) == 2


def test_hold_then_book(fhir, server):
    doc, pat = practitioner(fhir), patient(fhir)
    _, slots = calendar(fhir, doc, quarter_hours(9, 2))
    proposal = find(fhir, practitioner={"valueReference": {"reference": doc}})[0]
    held = fhir.post("/Appointment/$hold", json=parameters(appointment_resource=proposal))
    assert held.status_code == 201, held.text
    appointment = held.json()["entry"][0]["resource"]
    assert appointment["status"] == "pending"
    assert slot_status(fhir, slots[0]) == "busy-tentative"
    assert [p["start"] for p in find(fhir, practitioner={"valueReference": {"reference": doc}})] == [at(9, 15)]
    # somebody else cannot hold or book it meanwhile
    taken = fhir.post("/Appointment/$hold", json=parameters(appointment_resource=proposal))
    assert taken.status_code == 409 and "held by another appointment" in taken.json()["issue"][0]["diagnostics"]
    # book the hold, adding the patient (IHE: the resource with the hold's id)
    appointment["participant"].append({"actor": {"reference": pat}, "status": "needs-action"})
    booked = fhir.post("/Appointment/$book", json=parameters(appointment_resource=appointment))
    assert booked.status_code == 200, booked.text
    result = booked.json()["entry"][0]["resource"]
    assert (result["id"], result["status"]) == (appointment["id"], "booked")
    assert {p["status"] for p in result["participant"]} == {"accepted"}
    assert not any(e["url"].endswith("hold-expires") for e in result.get("extension", []))
    assert slot_status(fhir, slots[0]) == "busy"


def test_book_a_slot_already_taken_is_409(fhir):
    doc, pat = practitioner(fhir), patient(fhir)
    calendar(fhir, doc, quarter_hours(9, 1))
    proposal = find(fhir, practitioner={"valueReference": {"reference": doc}})[0]
    proposal["participant"].append({"actor": {"reference": pat}, "status": "needs-action"})
    first = fhir.post("/Appointment/$book", json=parameters(appointment_resource=proposal))
    assert first.status_code == 201, first.text
    second = fhir.post("/Appointment/$book", json=parameters(appointment_resource=proposal))
    assert second.status_code == 409
    issue = second.json()["issue"][0]
    assert issue["code"] == "conflict" and "already booked" in issue["diagnostics"]
    assert issue["expression"] == ["Appointment.slot"]
    assert fhir.get("/Appointment", params={"status": "booked"}).json()["total"] == 1


def test_expired_hold_cannot_be_booked_and_frees_the_slot(fhir, server):
    doc, pat = practitioner(fhir), patient(fhir)
    _, slots = calendar(fhir, doc, quarter_hours(9, 1))
    proposal = find(fhir, practitioner={"valueReference": {"reference": doc}})[0]
    settings = server.ctx.settings
    server.ctx.settings = replace(settings, hold_seconds=1)
    try:
        held = fhir.post("/Appointment/$hold", json=parameters(appointment_resource=proposal)).json()
    finally:
        server.ctx.settings = settings
    hold_id = held["entry"][0]["resource"]["id"]
    time.sleep(1.2)
    late = fhir.post("/Appointment/$book", json=parameters(
        appointment_reference={"valueReference": {"reference": f"Appointment/{hold_id}"}}))
    assert late.status_code == 409
    assert "expired" in late.json()["issue"][0]["diagnostics"]
    again = find(fhir, practitioner={"valueReference": {"reference": doc}})
    assert [p["slot"] for p in again] == [[{"reference": f"Slot/{slots[0]['id']}"}]]
    again[0]["participant"].append({"actor": {"reference": pat}, "status": "needs-action"})
    assert fhir.post("/Appointment/$book", json=parameters(appointment_resource=again[0])).status_code == 201
    assert slot_status(fhir, slots[0]) == "busy"


def test_reschedule_cancels_the_old_appointment_and_frees_its_slot(fhir):
    doc, pat = practitioner(fhir), patient(fhir)
    _, slots = calendar(fhir, doc, quarter_hours(9, 2))
    first, second = find(fhir, practitioner={"valueReference": {"reference": doc}})
    first["participant"].append({"actor": {"reference": pat}, "status": "needs-action"})
    booked = fhir.post("/Appointment/$book", json=parameters(appointment_resource=first)).json()["entry"][0]["resource"]
    moved = {**booked, "slot": second["slot"], "start": second["start"], "end": second["end"]}
    response = fhir.post("/Appointment/$book", json=parameters(appointment_resource=moved))
    assert response.status_code == 201, response.text
    new, old = (e["resource"] for e in response.json()["entry"])
    assert (new["status"], new["start"], old["id"], old["status"]) == ("booked", at(9, 15), booked["id"], "cancelled")
    assert {"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.replaces",
            "valueReference": {"reference": f"Appointment/{booked['id']}"}} in new["extension"]
    assert (slot_status(fhir, slots[0]), slot_status(fhir, slots[1])) == ("free", "busy")


def test_cancel_frees_and_noshow_keeps_the_slots(fhir, coordination):
    doc, pat = practitioner(fhir), patient(fhir)
    _, slots = calendar(fhir, doc, quarter_hours(9, 2))
    booked = []
    for proposal in find(fhir, practitioner={"valueReference": {"reference": doc}}):
        proposal["participant"].append({"actor": {"reference": pat}, "status": "needs-action"})
        booked.append(fhir.post("/Appointment/$book", json=parameters(appointment_resource=proposal))
                      .json()["entry"][0]["resource"])
    cancelled = fhir.post("/Appointment/$book", json=parameters(
        appointment_resource={**booked[0], "status": "cancelled"}))
    assert cancelled.status_code == 200 and cancelled.json()["entry"][0]["resource"]["status"] == "cancelled"
    assert slot_status(fhir, slots[0]) == "free"
    # a plain update (any ingest path) goes through the same rules
    assert fhir.put(f"/Appointment/{booked[1]['id']}", json={**booked[1], "status": "noshow"}).status_code == 200
    assert slot_status(fhir, slots[1]) == "busy"
    assert fhir.put(f"/Appointment/{booked[1]['id']}",
                    json={**booked[1], "status": "entered-in-error"}).status_code == 200
    assert slot_status(fhir, slots[1]) == "free"
    again = fhir.post("/Appointment/$book", json=parameters(appointment_resource={**booked[0], "status": "cancelled"}))
    assert again.status_code == 409 and "already cancelled" in again.json()["issue"][0]["diagnostics"]


def test_plain_writes_cannot_double_book(fhir, coordination):
    doc, pat = practitioner(fhir), patient(fhir)
    _, slots = calendar(fhir, doc, quarter_hours(9, 1))
    appointment = {"resourceType": "Appointment", "status": "booked", "start": at(9, 0), "end": at(9, 15),
                   "slot": [{"reference": f"Slot/{slots[0]['id']}"}],
                   "participant": [{"actor": {"reference": pat}, "status": "accepted"}]}
    created(fhir.post("/Appointment", json=appointment))
    assert slot_status(fhir, slots[0]) == "busy"
    again = fhir.post("/Appointment", json=appointment)
    assert again.status_code == 409
    transaction = fhir.post("/", json={"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Appointment"}, "resource": appointment}]})
    assert transaction.status_code == 409
    assert fhir.get("/Appointment").json()["total"] == 1
    deleted = fhir.get("/Appointment").json()["entry"][0]["resource"]["id"]
    fhir.delete(f"/Appointment/{deleted}")
    assert slot_status(fhir, slots[0]) == "free"


def test_bad_inputs_get_precise_outcomes(fhir):
    doc = practitioner(fhir)
    calendar(fhir, doc, quarter_hours(9, 1))
    proposal = find(fhir, practitioner={"valueReference": {"reference": doc}})[0]
    missing = fhir.post("/Appointment/$book", json=parameters())
    assert missing.status_code == 400 and missing.json()["issue"][0]["expression"] == ["appointment-resource"]
    no_patient = fhir.post("/Appointment/$book", json=parameters(appointment_resource=proposal))
    assert no_patient.status_code == 422
    assert no_patient.json()["issue"][0]["expression"] == ["Appointment.participant"]
    unknown = fhir.post("/Appointment/$hold", json=parameters(
        appointment_resource={**proposal, "slot": [{"reference": "Slot/nope"}]}))
    assert unknown.status_code == 404 and "Slot/nope" in unknown.json()["issue"][0]["diagnostics"]
    assert unknown.json()["issue"][0]["expression"] == ["Appointment.slot"]
    slotless = {k: v for k, v in proposal.items() if k != "slot"}
    no_slot = fhir.post("/Appointment/$hold", json=parameters(appointment_resource=slotless))
    assert no_slot.status_code == 400 and no_slot.json()["issue"][0]["expression"] == ["Appointment.slot"]
    outside = fhir.post("/Appointment/$hold", json=parameters(appointment_resource={**proposal, "end": at(11, 0)}))
    assert outside.status_code == 422 and "does not lie within its slots" in outside.json()["issue"][0]["diagnostics"]
    unknown_ref = fhir.post("/Appointment/$book", json=parameters(
        appointment_reference={"valueReference": {"reference": "Appointment/nope"}}))
    assert unknown_ref.status_code == 404
    window = fhir.post("/Appointment/$find", json=parameters(start={"valueDateTime": at(10, 0)},
                                                             end={"valueDateTime": at(9, 0)}))
    assert window.status_code == 400 and window.json()["issue"][0]["expression"] == ["end"]
    assert fhir.get("/Appointment/$book").status_code == 405
    assert fhir.get("/Slot", params={"status": "free"}).json()["total"] == 1  # nothing half-written


def test_appointment_responses_drive_the_appointment_status(fhir, coordination):
    doc, pat = practitioner(fhir), patient(fhir)
    _, slots = calendar(fhir, doc, quarter_hours(9, 1))
    appointment = created(fhir.post("/Appointment", json={
        "resourceType": "Appointment", "status": "proposed", "start": at(9, 0), "end": at(9, 15),
        "slot": [{"reference": f"Slot/{slots[0]['id']}"}],
        "participant": [{"actor": {"reference": pat}, "required": "required", "status": "needs-action"},
                        {"actor": {"reference": doc}, "required": "required", "status": "needs-action"}]}))
    assert slot_status(fhir, slots[0]) == "free"

    def reply(actor: str, status: str):
        return fhir.post("/AppointmentResponse", json={
            "resourceType": "AppointmentResponse", "appointment": {"reference": f"Appointment/{appointment['id']}"},
            "actor": {"reference": actor}, "participantStatus": status})

    assert reply(pat, "accepted").status_code == 201
    current = fhir.get(f"/Appointment/{appointment['id']}").json()
    assert (current["status"], [p["status"] for p in current["participant"]]) == ("proposed",
                                                                                   ["accepted", "needs-action"])
    assert reply(doc, "accepted").status_code == 201
    assert fhir.get(f"/Appointment/{appointment['id']}").json()["status"] == "booked"
    assert slot_status(fhir, slots[0]) == "busy"
    stranger = reply(practitioner(fhir), "accepted")
    assert stranger.status_code == 422 and stranger.json()["issue"][0]["expression"] == ["AppointmentResponse.actor"]


def test_find_across_many_calendars(fhir):
    """Past MANY_CALENDARS the slots are read by time and sorted to their calendars here."""
    for i in range(MANY_CALENDARS + 1):
        calendar(fhir, practitioner(fhir), [quarter_hours(9, 3)[i % 3]])
    proposals = find(fhir, _count={"valueInteger": 50})
    assert len(proposals) == MANY_CALENDARS + 1
    assert [p["start"] for p in proposals] == sorted(p["start"] for p in proposals)
    assert len({p["slot"][0]["reference"] for p in proposals}) == MANY_CALENDARS + 1
    assert len(find(fhir, _count={"valueInteger": 4})) == 4


def test_malformed_appointments_are_refused_with_their_element(fhir):
    doc = practitioner(fhir)
    calendar(fhir, doc, quarter_hours(9, 1))
    proposal = find(fhir, practitioner={"valueReference": {"reference": doc}})[0]
    for broken in ({**proposal, "slot": "Slot/x"}, {**proposal, "participant": [{"actor": "x"}]},
                   {**proposal, "start": "tomorrow"}):
        response = fhir.post("/Appointment/$hold", json=parameters(appointment_resource=broken))
        assert response.status_code == 422, response.text
        assert response.json()["issue"][0].get("expression"), response.text
    wrong_type = fhir.post("/Appointment/$book", json=parameters(appointment_resource={"resourceType": "Patient"}))
    assert wrong_type.status_code == 400 and wrong_type.json()["issue"][0]["expression"] == ["appointment-resource"]
