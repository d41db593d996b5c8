"""Concurrent writers through real HTTP connections: no lost update, no duplicate version."""

from __future__ import annotations

from tests.conftest import race


def test_two_updates_with_same_if_match_exactly_one_wins(fhir, server):
    for attempt in range(5):
        p = fhir.post("/Patient", json={"resourceType": "Patient"}).json()
        statuses = sorted(r.status_code for r in race(server, 2, lambda c: c.put(
            f"/Patient/{p['id']}", json={**p, "gender": "male"}, headers={"If-Match": 'W/"1"'})))
        assert statuses == [200, 412], (attempt, statuses)
        assert fhir.get(f"/Patient/{p['id']}").json()["meta"]["versionId"] == "2"


def test_concurrent_updates_without_if_match_all_get_distinct_versions(fhir, server):
    p = fhir.post("/Patient", json={"resourceType": "Patient"}).json()
    responses = race(server, 6, lambda c: c.put(f"/Patient/{p['id']}", json={**p, "active": True}))
    ok = [r for r in responses if r.status_code == 200]
    assert all(r.status_code in (200, 409) for r in responses)
    versions = sorted(int(r.json()["meta"]["versionId"]) for r in ok)
    assert len(set(versions)) == len(versions)
    history = fhir.get(f"/Patient/{p['id']}/_history").json()
    assert history["total"] == 1 + len(ok)


def test_concurrent_conditional_creates_make_one_resource(fhir, server):
    for attempt in range(3):
        identifier = f"urn:example:mrn|race-{attempt}"
        patient = {"resourceType": "Patient", "identifier": [{"system": "urn:example:mrn", "value": f"race-{attempt}"}]}
        responses = race(server, 6, lambda c: c.post("/Patient", json=patient,
                                                     headers={"If-None-Exist": f"identifier={identifier}"}))
        assert sorted(r.status_code for r in responses) == [200] * 5 + [201], [r.text for r in responses]
        assert len(fhir.get("/Patient", params={"identifier": identifier}).json().get("entry", [])) == 1


def test_concurrent_transactions_with_the_same_conditional_entries_make_one_each(fhir, server):
    def bundle(order: list[int]) -> dict:
        return {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": f"urn:uuid:00000000-0000-0000-0000-00000000000{n}",
             "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:example:mrn", "value": f"tx-{n}"}]},
             "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier=urn:example:mrn|tx-{n}"}}
            for n in order]}

    # Opposite orders: each transaction must lock all its criteria at once, or the two deadlock.
    orders = [[1, 2, 3], [3, 2, 1], [2, 1, 3], [3, 1, 2]]
    responses = race(server, 4, lambda c, orders=iter(orders): c.post("/", json=bundle(next(orders))))
    assert [r.status_code for r in responses] == [200] * 4, [r.text[:300] for r in responses]
    for n in (1, 2, 3):
        assert len(fhir.get("/Patient", params={"identifier": f"urn:example:mrn|tx-{n}"}).json()["entry"]) == 1
