"""history: instance, type, system; _since, _at, _count and paging (FHIR R4 3.1.0.9)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta


def make(fhir, family: str) -> dict:
    return fhir.post("/Patient", json={"resourceType": "Patient", "name": [{"family": family}]}).json()


def test_instance_history_newest_first(fhir):
    p = make(fhir, "A")
    fhir.put(f"/Patient/{p['id']}", json={**p, "gender": "male"})
    fhir.put(f"/Patient/{p['id']}", json={**p, "gender": "female"})
    bundle = fhir.get(f"/Patient/{p['id']}/_history").json()
    assert bundle["type"] == "history"
    assert bundle["total"] == 3
    assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == ["3", "2", "1"]
    assert [e["request"]["method"] for e in bundle["entry"]] == ["PUT", "PUT", "POST"]
    assert bundle["entry"][0]["response"]["etag"] == 'W/"3"'


def test_type_and_system_history(fhir):
    make(fhir, "A")
    make(fhir, "B")
    fhir.post("/Observation", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}})
    assert len(fhir.get("/Patient/_history").json()["entry"]) == 2
    system = fhir.get("/_history").json()
    assert {e["resource"]["resourceType"] for e in system["entry"]} == {"Patient", "Observation"}


def test_since_and_at(fhir):
    p = make(fhir, "A")
    written = datetime.fromisoformat(p["meta"]["lastUpdated"].replace("Z", "+00:00"))
    middle = (written + timedelta(milliseconds=50)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.1)
    fhir.put(f"/Patient/{p['id']}", json={**p, "gender": "male"})
    since = fhir.get("/Patient/_history", params={"_since": middle}).json()
    assert [e["resource"]["meta"]["versionId"] for e in since["entry"]] == ["2"]
    at = fhir.get(f"/Patient/{p['id']}/_history", params={"_at": middle}).json()
    assert [e["resource"]["meta"]["versionId"] for e in at["entry"]] == ["1"]
    assert fhir.get("/_history", params={"_since": "not-a-date"}).status_code == 400


def test_paging_is_stable_while_others_write(fhir):
    for i in range(5):
        make(fhir, f"P{i}")
    first = fhir.get("/Patient/_history", params={"_count": 2}).json()
    seen = [e["resource"]["id"] for e in first["entry"]]
    make(fhir, "written-meanwhile")  # must not shift the next pages
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    while next_url:
        page = fhir.get(next_url).json()
        seen += [e["resource"]["id"] for e in page["entry"]]
        next_url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert len(seen) == 5 and len(set(seen)) == 5


def test_bad_page_token_is_400(fhir):
    assert fhir.get("/_history", params={"_page": "garbage"}).status_code == 400
