"""PATCH over HTTP: JSON Patch and FHIRPath Patch (the official cases run in tests/patch)."""

from __future__ import annotations

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def test_json_patch(fhir):
    p = fhir.post("/Patient", json={"resourceType": "Patient", "active": True}).json()
    ops = [{"op": "replace", "path": "/active", "value": False}, {"op": "add", "path": "/gender", "value": "other"}]
    response = fhir.patch(f"/Patient/{p['id']}", json=ops, headers=JSON_PATCH)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False and response.json()["gender"] == "other"
    assert response.json()["meta"]["versionId"] == "2"
    history = fhir.get(f"/Patient/{p['id']}/_history").json()
    assert history["entry"][0]["request"]["method"] == "PATCH"


def test_fhirpath_patch(fhir):
    p = fhir.post("/Patient", json={"resourceType": "Patient", "birthDate": "1950-01-01"}).json()
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.birthDate"},
        {"name": "value", "valueDate": "1951-02-02"}]}]}
    response = fhir.patch(f"/Patient/{p['id']}", json=parameters)
    assert response.status_code == 200, response.text
    assert response.json()["birthDate"] == "1951-02-02"


def test_patch_errors(fhir):
    p = fhir.post("/Patient", json={"resourceType": "Patient", "active": True}).json()
    failing = [{"op": "test", "path": "/active", "value": False}]
    assert fhir.patch(f"/Patient/{p['id']}", json=failing, headers=JSON_PATCH).status_code == 422
    change_id = [{"op": "replace", "path": "/id", "value": "other"}]
    assert fhir.patch(f"/Patient/{p['id']}", json=change_id, headers=JSON_PATCH).status_code == 422
    invalid = [{"op": "replace", "path": "/active", "value": "maybe"}]
    assert fhir.patch(f"/Patient/{p['id']}", json=invalid, headers=JSON_PATCH).status_code == 422
    assert fhir.patch(f"/Patient/{p['id']}", json=[{"op": "replace", "path": "/active", "value": False}],
                      headers={**JSON_PATCH, "If-Match": 'W/"9"'}).status_code == 412
    assert fhir.get(f"/Patient/{p['id']}").json()["meta"]["versionId"] == "1"
    assert fhir.patch("/Patient/missing", json=[], headers=JSON_PATCH).status_code == 404


def test_conditional_patch(fhir):
    fhir.post("/Patient", json={"resourceType": "Patient", "identifier": [{"system": "s", "value": "v"}]})
    response = fhir.patch("/Patient", params={"identifier": "s|v"}, json=[{"op": "add", "path": "/active",
                                                                          "value": True}], headers=JSON_PATCH)
    assert response.status_code == 200 and response.json()["active"] is True
