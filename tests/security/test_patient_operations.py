"""A patient's own app (``patient/`` token) holds and books its patient's appointments:
type-level operations that change state, allowed because everything they write stays in
that patient's compartment, refused (403, nothing written) for anyone else's."""

from __future__ import annotations

import pytest

from tests.conftest import FHIR_JSON

JSON = {"Content-Type": FHIR_JSON}
APP_SCOPES = "patient/Appointment.cruds patient/Slot.rs patient/Schedule.rs patient/Practitioner.rs"
START, END = "2031-03-03T09:00:00Z", "2031-03-03T09:15:00Z"


@pytest.fixture
def slots(admin, two_patients) -> list[str]:
    schedule = admin.post("Schedule", json={"resourceType": "Schedule",
                                            "actor": [{"reference": "Practitioner/doc"}]}, headers=JSON).json()
    ids = []
    for hour in (9, 10, 11):
        slot = {"resourceType": "Slot", "schedule": {"reference": f"Schedule/{schedule['id']}"}, "status": "free",
                "start": f"2031-03-03T{hour:02d}:00:00Z", "end": f"2031-03-03T{hour:02d}:15:00Z"}
        r = admin.post("Slot", json=slot, headers=JSON)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def appointment(slot: str, *patients: str, **extra) -> dict:
    return {"resourceType": "Appointment", "status": "proposed", "slot": [{"reference": f"Slot/{slot}"}],
            "participant": [{"actor": {"reference": "Practitioner/doc"}, "status": "needs-action"},
                            *({"actor": {"reference": f"Patient/{p}"}, "status": "needs-action"} for p in patients)],
            **extra}


def call(client, name: str, resource: dict | None = None, **values):
    parameter = [{"name": "appointment-resource", "resource": resource}] if resource else []
    parameter += [{"name": k.replace("_", "-"), "valueString": v} for k, v in values.items()]
    return client.post(f"Appointment/${name}", json={"resourceType": "Parameters", "parameter": parameter},
                       headers=JSON)


def slot_status(admin, slot: str) -> str:
    return admin.get(f"Slot/{slot}").json()["status"]


def test_patient_app_finds_free_times(secure, admin, slots):
    """A practitioner's Schedule is availability, not patient data: the app reads it (and
    so $find works); a Schedule naming another patient stays out of reach."""
    theirs = {"resourceType": "Schedule", "id": "b-own", "actor": [{"reference": "Patient/B"},
                                                                   {"reference": "Practitioner/doc"}]}
    assert admin.put("Schedule/b-own", json=theirs, headers=JSON).status_code == 201
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "practitioner", "valueReference": {"reference": "Practitioner/doc"}},
        {"name": "start", "valueDateTime": "2031-03-03T00:00:00Z"},
        {"name": "end", "valueDateTime": "2031-03-03T23:00:00Z"}]}
    with secure.client(APP_SCOPES, patient="A") as app:
        r = app.post("Appointment/$find", json=body, headers=JSON)
        assert r.status_code == 200, r.text
        assert [e["resource"]["start"] for e in r.json()["entry"]] == [
            "2031-03-03T09:00:00Z", "2031-03-03T10:00:00Z", "2031-03-03T11:00:00Z"]
        found = {e["resource"]["id"] for e in app.get("Schedule").json()["entry"]}
        assert len(found) == 1 and "b-own" not in found
        assert app.get("Schedule/b-own").status_code == 404
        history = app.get("Schedule/_history").json()
        assert {e["fullUrl"].rsplit("/", 1)[1] for e in history["entry"]} == found
    with secure.client(APP_SCOPES, patient="B") as other:
        assert other.get("Schedule/b-own").status_code == 200


def test_patient_app_holds_and_books_for_its_patient(secure, admin, slots):
    with secure.client(APP_SCOPES, patient="A") as app:
        held = call(app, "hold", appointment(slots[0], "A"))
        assert held.status_code == 201, held.text
        hold = held.json()["entry"][0]["resource"]
        assert hold["status"] == "pending"
        booked = call(app, "book", appointment_reference=f"Appointment/{hold['id']}")
        assert booked.status_code == 200, booked.text
        assert booked.json()["entry"][0]["resource"]["status"] == "booked"
        r = call(app, "book", appointment(slots[1], "A"))
        assert r.status_code == 201, r.text
    assert slot_status(admin, slots[0]) == "busy" and slot_status(admin, slots[1]) == "busy"


def test_patient_app_cannot_book_for_another_patient(secure, admin, slots):
    theirs = call(admin, "book", appointment(slots[2], "B"))
    assert theirs.status_code == 201, theirs.text
    b_appointment = theirs.json()["entry"][0]["resource"]
    with secure.client(APP_SCOPES, patient="A") as app:
        for refused in (appointment(slots[0], "B"), appointment(slots[0], "A", "B"), appointment(slots[0])):
            r = call(app, "book", refused)
            assert r.status_code == 403, r.text
            assert r.json()["issue"][0]["code"] == "forbidden"
        assert call(app, "hold", appointment(slots[0], "B")).status_code == 403
        # B's stored appointment: out of reach by reference (404, as if absent) ...
        assert call(app, "book", appointment_reference=f"Appointment/{b_appointment['id']}").status_code == 404
        # ... and by its id inside a resource naming A: changing it would take it from B (403, rolled back).
        hijack = {**appointment(slots[2], "A"), "id": b_appointment["id"], "status": "booked"}
        r = call(app, "book", hijack)
        assert r.status_code == 403, r.text
    stored = admin.get(f"Appointment/{b_appointment['id']}").json()
    assert stored["meta"]["versionId"] == "1" and "Patient/B" in str(stored["participant"])
    assert slot_status(admin, slots[0]) == "free"
    assert admin.get("Appointment", params={"_total": "accurate"}).json()["total"] == 1


def test_patient_token_needs_create_and_update_on_the_type(secure, slots):
    with secure.client("patient/Appointment.rs patient/Slot.rs", patient="A") as reader:
        assert call(reader, "book", appointment(slots[0], "A")).status_code == 403
    with secure.client(APP_SCOPES) as no_patient:  # patient/ scopes without a patient reach nothing
        assert call(no_patient, "book", appointment(slots[0], "A")).status_code == 403
    with secure.client("patient/*.cruds", patient="A") as patient:
        # Operations that do not declare their writes stay in one compartment: refused as before.
        r = patient.post("Patient/$reindex", json={"resourceType": "Parameters"}, headers=JSON)
        assert r.status_code == 403
