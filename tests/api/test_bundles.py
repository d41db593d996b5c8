"""batch and transaction Bundles (FHIR R4 3.1.0.11)."""

from __future__ import annotations

import base64
import json

IDENT = "urn:oid:1.2.250.1.999.1.1"


def entry(method: str, url: str, resource: dict | None = None, full_url: str | None = None, **request) -> dict:
    e = {"request": {"method": method, "url": url, **request}}
    if resource is not None:
        e["resource"] = resource
    if full_url:
        e["fullUrl"] = full_url
    return e


def transaction(*entries, kind: str = "transaction") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def count(fhir, resource_type: str) -> int:
    return len(fhir.get(f"/{resource_type}/_history").json().get("entry", []))


def test_transaction_resolves_urn_uuid_references(fhir):
    bundle = transaction(
        entry("POST", "Observation", {"resourceType": "Observation", "status": "final", "code": {"text": "w"},
                                      "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"}}),
        entry("POST", "Patient", {"resourceType": "Patient", "name": [{"family": "Urn"}]},
              full_url="urn:uuid:11111111-1111-4111-8111-111111111111"),
    )
    response = fhir.post("", json=bundle)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    observation, created = (e["resource"] for e in result["entry"])  # response order = request order
    assert observation["subject"]["reference"] == f"Patient/{created['id']}"
    assert [e["response"]["status"] for e in result["entry"]] == ["201", "201"]
    assert result["entry"][1]["response"]["location"].startswith(f"Patient/{created['id']}/_history/1")


def test_transaction_conditional_create_and_conditional_reference(fhir):
    existing = fhir.post("/Patient", json={"resourceType": "Patient",
                                           "identifier": [{"system": IDENT, "value": "IPP-9"}]}).json()
    bundle = transaction(
        entry("POST", "Patient", {"resourceType": "Patient", "identifier": [{"system": IDENT, "value": "IPP-9"}]},
              full_url="urn:uuid:22222222-2222-4222-8222-222222222222", ifNoneExist=f"identifier={IDENT}|IPP-9"),
        entry("POST", "Encounter", {"resourceType": "Encounter", "status": "planned",
                                    "class": {"code": "AMB"},
                                    "subject": {"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"}}),
        entry("POST", "Observation", {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                                      "subject": {"reference": f"Patient?identifier={IDENT}|IPP-9"}}),
    )
    result = fhir.post("", json=bundle).json()
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses == ["200", "201", "201"]
    assert result["entry"][1]["resource"]["subject"]["reference"] == f"Patient/{existing['id']}"
    assert result["entry"][2]["resource"]["subject"]["reference"] == f"Patient/{existing['id']}"
    assert count(fhir, "Patient") == 1


def test_transaction_is_all_or_nothing(fhir):
    keep = fhir.post("/Patient", json={"resourceType": "Patient", "name": [{"family": "Kept"}]}).json()
    bundle = transaction(
        entry("POST", "Patient", {"resourceType": "Patient", "name": [{"family": "New"}]}),
        entry("PUT", f"Patient/{keep['id']}", {**keep, "gender": "male"}),
        entry("DELETE", f"Patient/{keep['id']}x"),
        entry("POST", "Observation", {"resourceType": "Observation", "status": "final", "code": {}, "bogus": 1}),
    )
    response = fhir.post("", json=bundle)
    assert response.status_code == 422, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "Bundle.entry[3]" in outcome["issue"][0]["diagnostics"]
    assert count(fhir, "Patient") == 1
    assert fhir.get(f"/Patient/{keep['id']}").json()["meta"]["versionId"] == "1"
    assert count(fhir, "Observation") == 0


def test_transaction_processing_order(fhir):
    # DELETE runs before POST, and GET after the writes: the read sees the created resource.
    victim = fhir.put("/Patient/victim", json={"resourceType": "Patient", "id": "victim"}).json()
    bundle = transaction(
        entry("GET", "Patient/made-here"),
        entry("PUT", "Patient/made-here", {"resourceType": "Patient", "id": "made-here"}),
        entry("DELETE", f"Patient/{victim['id']}"),
    )
    result = fhir.post("", json=bundle).json()
    assert [e["response"]["status"] for e in result["entry"]] == ["200", "201", "200"]
    assert result["entry"][0]["resource"]["id"] == "made-here"


def test_transaction_rejects_two_writes_to_one_resource(fhir):
    bundle = transaction(entry("PUT", "Patient/a", {"resourceType": "Patient", "id": "a"}),
                         entry("DELETE", "Patient/a"))
    assert fhir.post("", json=bundle).status_code == 400


def test_batch_entries_are_independent(fhir):
    bundle = transaction(
        entry("POST", "Patient", {"resourceType": "Patient"}),
        entry("GET", "Patient/unknown"),
        entry("POST", "Patient", {"resourceType": "Patient", "birthDate": "nonsense"}),
        entry("PUT", "Patient/b1", {"resourceType": "Patient", "id": "b1"}),
        kind="batch",
    )
    result = fhir.post("", json=bundle).json()
    assert result["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses == ["201", "404", "422", "201"]
    assert result["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert count(fhir, "Patient") == 2


def test_batch_search_and_patch_entries(fhir):
    fhir.put("/Patient/s1", json={"resourceType": "Patient", "id": "s1", "gender": "male"})
    ops = base64.b64encode(json.dumps([{"op": "add", "path": "/active", "value": True}]).encode()).decode()
    bundle = transaction(
        entry("GET", "Patient?gender=male"),
        entry("PATCH", "Patient/s1", {"resourceType": "Binary", "contentType": "application/json-patch+json",
                                      "data": ops}),
        kind="batch",
    )
    result = fhir.post("", json=bundle).json()
    assert result["entry"][0]["resource"]["type"] == "searchset"
    assert result["entry"][0]["resource"]["total"] == 1
    assert result["entry"][1]["resource"]["active"] is True


def test_bundle_shape_errors(fhir):
    assert fhir.post("", json={"resourceType": "Patient"}).status_code == 400
    assert fhir.post("", json={"resourceType": "Bundle", "type": "collection"}).status_code == 400
    assert fhir.post("", json=transaction({"resource": {"resourceType": "Patient"}})).status_code == 400
    unresolved = transaction(entry("POST", "Observation", {
        "resourceType": "Observation", "status": "final", "code": {},
        "subject": {"reference": "urn:uuid:99999999-9999-4999-8999-999999999999"}}))
    assert fhir.post("", json=unresolved).status_code == 400
