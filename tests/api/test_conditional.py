"""Conditional create, update, delete and patch (FHIR R4 3.1.0.4.1, 3.1.0.7.1, 3.1.0.8.1)."""

from __future__ import annotations

IDENT = "urn:oid:1.2.250.1.999.1.1"


def patient(value: str, **extra) -> dict:
    return {"resourceType": "Patient", "identifier": [{"system": IDENT, "value": value}], **extra}


def test_conditional_create(fhir):
    headers = {"If-None-Exist": f"identifier={IDENT}|IPP-1"}
    first = fhir.post("/Patient", json=patient("IPP-1"), headers=headers)
    assert first.status_code == 201
    again = fhir.post("/Patient", json=patient("IPP-1"), headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    fhir.post("/Patient", json=patient("IPP-1"))  # a duplicate made without the condition
    assert fhir.post("/Patient", json=patient("IPP-1"), headers=headers).status_code == 412


def test_conditional_update(fhir):
    created = fhir.put("/Patient", params={"identifier": f"{IDENT}|IPP-2"}, json=patient("IPP-2"))
    assert created.status_code == 201
    pid = created.json()["id"]
    updated = fhir.put("/Patient", params={"identifier": f"{IDENT}|IPP-2"}, json=patient("IPP-2", gender="male"))
    assert updated.status_code == 200
    assert updated.json()["id"] == pid and updated.json()["meta"]["versionId"] == "2"
    wrong_id = fhir.put("/Patient", params={"identifier": f"{IDENT}|IPP-2"}, json=patient("IPP-2", id="other"))
    assert wrong_id.status_code == 400
    fhir.post("/Patient", json=patient("IPP-2"))
    assert fhir.put("/Patient", params={"identifier": f"{IDENT}|IPP-2"}, json=patient("IPP-2")).status_code == 412


def test_conditional_delete(fhir):
    pid = fhir.post("/Patient", json=patient("IPP-3")).json()["id"]
    assert fhir.delete("/Patient", params={"identifier": f"{IDENT}|IPP-3"}).status_code == 200
    assert fhir.get(f"/Patient/{pid}").status_code == 410
    assert fhir.delete("/Patient", params={"identifier": f"{IDENT}|nobody"}).status_code == 200
    fhir.post("/Patient", json=patient("IPP-4"))
    fhir.post("/Patient", json=patient("IPP-4"))
    assert fhir.delete("/Patient", params={"identifier": f"{IDENT}|IPP-4"}).status_code == 412


def test_conditional_needs_criteria(fhir):
    assert fhir.delete("/Patient").status_code == 400
