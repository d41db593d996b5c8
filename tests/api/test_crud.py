"""create / read / vread / update / delete through HTTP (FHIR R4 3.1.0)."""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime

FHIR_JSON = "application/fhir+json"


def patient(**extra) -> dict:
    return {"resourceType": "Patient", "name": [{"family": "Martin", "given": ["Hélène"]}], "birthDate": "1948-03-12",
            **extra}


def test_create_assigns_id_version_and_location(fhir):
    response = fhir.post("/Patient", json=patient(id="client-chosen"))
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "client-chosen"  # R4: the server ignores an id on create
    assert body["meta"]["versionId"] == "1"
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Location"].endswith(f"/fhir/Patient/{body['id']}/_history/1")
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    assert "Last-Modified" in response.headers


def test_read_serves_the_stored_resource_with_etag(fhir):
    created = fhir.post("/Patient", json=patient()).json()
    response = fhir.get(f"/Patient/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["ETag"] == 'W/"1"'
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert modified.year >= 2024


def test_read_unknown_is_404_with_operation_outcome(fhir):
    response = fhir.get("/Patient/nope")
    assert response.status_code == 404
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"


def test_unknown_resource_type_is_404(fhir):
    response = fhir.get("/Patientt/1")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_update_creates_new_version_and_vread_keeps_old(fhir):
    created = fhir.post("/Patient", json=patient()).json()
    pid = created["id"]
    changed = {**created, "gender": "female"}
    response = fhir.put(f"/Patient/{pid}", json=changed)
    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] == "2"
    assert response.headers["ETag"] == 'W/"2"'
    old = fhir.get(f"/Patient/{pid}/_history/1")
    assert old.status_code == 200
    assert "gender" not in old.json()
    assert fhir.get(f"/Patient/{pid}").json()["gender"] == "female"
    assert fhir.get(f"/Patient/{pid}/_history/9").status_code == 404


def test_update_as_create_with_client_id(fhir):
    response = fhir.put("/Patient/demo-1", json=patient(id="demo-1"))
    assert response.status_code == 201
    assert response.json()["id"] == "demo-1"
    assert fhir.get("/Patient/demo-1").status_code == 200


def test_update_id_must_match_url(fhir):
    response = fhir.put("/Patient/a", json=patient(id="b"))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Patient.id"]
    assert fhir.put("/Patient/a", json=patient()).status_code == 400


def test_delete_then_read_is_gone_and_history_keeps_tombstone(fhir):
    pid = fhir.post("/Patient", json=patient()).json()["id"]
    response = fhir.delete(f"/Patient/{pid}")
    assert response.status_code == 200
    assert response.headers["ETag"] == 'W/"2"'
    gone = fhir.get(f"/Patient/{pid}")
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    history = fhir.get(f"/Patient/{pid}/_history").json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    assert "resource" not in history["entry"][0]
    # deleting again changes nothing
    assert fhir.delete(f"/Patient/{pid}").status_code == 200
    assert fhir.get(f"/Patient/{pid}/_history").json()["total"] == 2
    # vread of the deleted version is 410, of the earlier one still 200
    assert fhir.get(f"/Patient/{pid}/_history/2").status_code == 410
    assert fhir.get(f"/Patient/{pid}/_history/1").status_code == 200


def test_update_after_delete_revives(fhir):
    pid = fhir.post("/Patient", json=patient()).json()["id"]
    fhir.delete(f"/Patient/{pid}")
    response = fhir.put(f"/Patient/{pid}", json=patient(id=pid))
    assert response.status_code == 201
    assert response.json()["meta"]["versionId"] == "3"


def test_if_match_stale_version_is_412(fhir):
    created = fhir.post("/Patient", json=patient()).json()
    pid = created["id"]
    ok = fhir.put(f"/Patient/{pid}", json=created, headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200
    stale = fhir.put(f"/Patient/{pid}", json=created, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    assert fhir.delete(f"/Patient/{pid}", headers={"If-Match": 'W/"1"'}).status_code == 412


def test_if_none_match_and_if_modified_since_give_304(fhir):
    created = fhir.post("/Patient", json=patient())
    pid = created.json()["id"]
    assert fhir.get(f"/Patient/{pid}", headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert fhir.get(f"/Patient/{pid}", headers={"If-None-Match": 'W/"7"'}).status_code == 200
    later = parsedate_to_datetime(created.headers["Last-Modified"])
    since = format_datetime(later.replace(year=later.year + 1), usegmt=True)
    assert fhir.get(f"/Patient/{pid}", headers={"If-Modified-Since": since}).status_code == 304
    earlier = format_datetime(later.replace(year=later.year - 1), usegmt=True)
    assert fhir.get(f"/Patient/{pid}", headers={"If-Modified-Since": earlier}).status_code == 200


def test_decimal_precision_is_kept(fhir):
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"},
                   "valueQuantity": {"value": 72.50, "unit": "kg"}}
    response = fhir.post("/Observation", content=b'{"resourceType":"Observation","status":"final",'
                         b'"code":{"text":"weight"},"valueQuantity":{"value":72.50,"unit":"kg"}}',
                         headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 201, response.text
    assert b'"value":72.50' in fhir.get(f"/Observation/{response.json()['id']}").content
    assert observation["valueQuantity"]["value"] == 72.5


def test_prefer_return(fhir):
    minimal = fhir.post("/Patient", json=patient(), headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.content == b""
    assert minimal.headers["Location"]
    outcome = fhir.post("/Patient", json=patient(), headers={"Prefer": "return=OperationOutcome"})
    assert outcome.json()["resourceType"] == "OperationOutcome"
    full = fhir.post("/Patient", json=patient(), headers={"Prefer": "return=representation"})
    assert full.json()["resourceType"] == "Patient"
