"""How the listener reads a patient and applies its changes: the direct index read finds
what a search finds, and writes racing on one patient leave exactly the alerts a calm
sequence of the same writes leaves (the re-check's plan is worked out again when the
records moved between its read and its write transaction)."""

from __future__ import annotations

from collections import Counter

from server.alerts.listener import CHECKED_TYPES
from server.alerts.records import checked_records, current_versions, patient_records, versions
from server.authz.access import INTERNAL, acting_as
from tests.alerts.fhirdata import allergy, order, patient, statement
from tests.conftest import race

DRUGS = ["warfarin 5 mg", "aspirin 75 mg", "ibuprofen 400 mg", "clarithromycin 500 mg", "simvastatin 40 mg",
         "amiodarone 200 mg"]


def ids(found: dict) -> dict:
    return {t: [r["id"] for r in records] for t, records in found.items()}


def test_direct_read_finds_what_the_search_finds(server, record):
    p = record.create(patient())
    other = record.create(patient())
    record.create(allergy(p["id"], text="Allergy to penicillin"))
    record.create(order(p["id"], text="amoxicillin 500 mg"))
    record.create(statement(p["id"], text="warfarin 5 mg"))
    record.create(statement(p["id"], text="aspirin 75 mg"))
    gone = record.create(order(p["id"], text="ibuprofen 400 mg"))
    assert record.client.delete(f"/MedicationRequest/{gone['id']}").status_code in (200, 204)
    record.create(order(other["id"], text="clarithromycin 500 mg"))
    with acting_as(INTERNAL), server.ctx.store.read() as uow:
        direct = checked_records(uow, p["id"], CHECKED_TYPES)
        searched = patient_records(uow, p["id"], CHECKED_TYPES)
        assert ids(direct) == ids(searched)
        assert len(direct["MedicationRequest"]) == 1  # the deleted order is not read
        # live alerts (amoxicillin / penicillin, warfarin + aspirin) and those ibuprofen's deletion cancelled
        assert {i["status"] for i in direct["DetectedIssue"]} == {"final", "cancelled"}
        assert current_versions(uow, p["id"], CHECKED_TYPES) == versions(direct)
    record.update({**direct["MedicationStatement"][0], "status": "stopped"})
    with acting_as(INTERNAL), server.ctx.store.read() as uow:
        assert current_versions(uow, p["id"], CHECKED_TYPES) != versions(direct)


def alert_pairs(record, patient_id: str) -> Counter:
    """(code, status, the drug texts implicated) of a patient's alerts."""
    names = {}
    for kind in ("MedicationStatement",):
        for r in record.client.get(f"/{kind}", params={"patient": patient_id}).json().get("entry", []):
            names[f"{kind}/{r['resource']['id']}"] = r["resource"]["medicationCodeableConcept"]["text"]
    out = Counter()
    for issue in record.alerts(patient_id):
        code = issue["code"]["coding"][0]["code"]
        out[(code, issue["status"], tuple(sorted(names[i["reference"]] for i in issue["implicated"])))] += 1
    return out


def test_racing_writes_on_one_patient_leave_the_alerts_of_a_calm_sequence(server, record):
    calm = record.create(patient())
    for drug in DRUGS:
        record.create(statement(calm["id"], text=drug))
    expected = alert_pairs(record, calm["id"])
    assert sum(expected.values()) >= 5  # the drugs interact: the race has alerts to get right

    raced = record.create(patient())
    results = race(server, len(DRUGS), lambda client, it=iter(DRUGS): client.post(
        "/MedicationStatement", json=statement(raced["id"], text=next(it))))
    assert all(r.status_code == 201 for r in results)
    assert alert_pairs(record, raced["id"]) == expected
