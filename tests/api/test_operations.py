"""$validate, $meta, $meta-add, $meta-delete."""

from __future__ import annotations

TAG = {"system": "http://example.org/tags", "code": "vip"}


def test_validate_reports_without_storing(fhir):
    good = fhir.post("/Patient/$validate", json={"resourceType": "Patient", "gender": "female"})
    assert good.status_code == 200
    assert good.json()["issue"][0]["severity"] == "information"
    bad = fhir.post("/Patient/$validate", json={"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient", "birthDate": "sometime"}}]})
    assert bad.status_code == 200
    assert any(i["severity"] == "error" for i in bad.json()["issue"])
    assert fhir.get("/Patient/_history").json().get("entry", []) == []


def test_meta_operations(fhir):
    p = fhir.post("/Patient", json={"resourceType": "Patient"}).json()
    params = {"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": {"tag": [TAG]}}]}
    added = fhir.post(f"/Patient/{p['id']}/$meta-add", json=params)
    assert added.status_code == 200, added.text
    assert added.json()["parameter"][0]["valueMeta"]["tag"] == [TAG]
    again = fhir.post(f"/Patient/{p['id']}/$meta-add", json=params).json()
    assert again["parameter"][0]["valueMeta"]["tag"] == [TAG]  # no duplicates
    instance = fhir.get(f"/Patient/{p['id']}/$meta").json()
    assert instance["parameter"][0]["valueMeta"]["tag"] == [TAG]
    in_use = fhir.get("/Patient/$meta").json()
    assert in_use["parameter"][0]["valueMeta"]["tag"] == [TAG]
    system = fhir.get("/$meta").json()
    assert system["parameter"][0]["valueMeta"]["tag"] == [TAG]
    deleted = fhir.post(f"/Patient/{p['id']}/$meta-delete", json=params).json()
    assert "tag" not in deleted["parameter"][0]["valueMeta"]
    assert fhir.get(f"/Patient/{p['id']}/$meta-add").status_code == 405


def test_unknown_operation_is_404(fhir):
    response = fhir.get("/Patient/$nothing")
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-supported"
