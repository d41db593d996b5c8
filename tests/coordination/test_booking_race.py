"""No double booking: clients booking the same slot at the same moment, many rounds."""

from __future__ import annotations

from tests.conftest import race
from tests.coordination.helpers import calendar, created, parameters, quarter_hours

ROUNDS = 12


def test_parallel_bookings_of_one_slot_one_wins(fhir, server):
    _race_rounds(fhir, server)


def test_parallel_bookings_with_the_store_listeners(fhir, coordination):
    """As wired in production: the Appointment listener runs inside each $book too."""
    _race_rounds(fhir, coordination)


def _race_rounds(fhir, server):
    doc = "Practitioner/" + created(fhir.post("/Practitioner", json={"resourceType": "Practitioner"}))["id"]
    patients = ["Patient/" + created(fhir.post("/Patient", json={"resourceType": "Patient"}))["id"] for _ in range(3)]
    _, slots = calendar(fhir, doc, quarter_hours(8, ROUNDS))
    for round_, slot in enumerate(slots):
        def book(client, i=[0]):
            i[0] += 1
            appointment = {"resourceType": "Appointment", "status": "proposed", "start": slot["start"],
                           "end": slot["end"], "slot": [{"reference": f"Slot/{slot['id']}"}],
                           "participant": [{"actor": {"reference": doc}, "status": "needs-action"},
                                           {"actor": {"reference": patients[i[0] % 3]}, "status": "needs-action"}]}
            return client.post("/Appointment/$book", json=parameters(appointment_resource=appointment))

        responses = race(server, 3, book)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409, 409], (round_, [r.text[:200] for r in responses])
        for r in responses:
            if r.status_code == 409:
                issue = r.json()["issue"][0]
                assert issue["code"] == "conflict" and f"Slot/{slot['id']}" in issue["diagnostics"]
        booked = fhir.get("/Appointment", params={"slot": f"Slot/{slot['id']}", "status": "booked"}).json()
        assert booked["total"] == 1, round_
        assert fhir.get(f"/Slot/{slot['id']}").json()["status"] == "busy"


def test_parallel_holds_then_books_never_share_a_slot(fhir, server):
    doc = "Practitioner/" + created(fhir.post("/Practitioner", json={"resourceType": "Practitioner"}))["id"]
    _, slots = calendar(fhir, doc, quarter_hours(14, 4))
    proposals = [{"resourceType": "Appointment", "status": "proposed", "slot": [{"reference": f"Slot/{s['id']}"}],
                  "participant": [{"actor": {"reference": doc}, "status": "needs-action"}]} for s in slots]
    # four clients each hold two adjacent slots, overlapping their neighbours: at most two can win
    pairs = [proposals[i]["slot"] + proposals[i + 1]["slot"] for i in range(3)] + [
        proposals[3]["slot"] + proposals[0]["slot"]]
    counter = iter(range(4))
    responses = race(server, 4, lambda c: c.post("/Appointment/$hold", json=parameters(
        appointment_resource={**proposals[0], "slot": pairs[next(counter)]})))
    assert all(r.status_code in (201, 409) for r in responses), [r.text[:200] for r in responses]
    winners = [r.json()["entry"][0]["resource"] for r in responses if r.status_code == 201]
    assert 1 <= len(winners) <= 2
    taken = [s["reference"] for w in winners for s in w["slot"]]
    assert len(taken) == len(set(taken))
    holders = {}
    for s in slots:
        slot = fhir.get(f"/Slot/{s['id']}").json()
        holders[s["id"]] = slot["status"]
    assert sum(1 for status in holders.values() if status == "busy-tentative") == len(taken)
