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
