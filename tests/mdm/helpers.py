"""Small builders shared by the identity tests."""

from __future__ import annotations

GOLDEN = "urn:passerelle:mdm|golden-record"
INS = "urn:oid:1.2.250.1.213.1.4.8"
IPP = "urn:oid:1.2.250.1.71.1.2.7"  # a hospital's local patient identifier (IPP) namespace


def patient(family="Dupré", given="Hélène", birth="1980-03-04", gender="female", **extra) -> dict:
    resource = {"resourceType": "Patient", "name": [{"family": family, "given": [given]}], "gender": gender,
                "birthDate": birth}
    resource.update(extra)
    return resource


def create(fhir, resource: dict) -> dict:
    response = fhir.post(f"/{resource['resourceType']}", json=resource)
    assert response.status_code == 201, response.text
    return response.json()


def golden_of(resource: dict) -> str:
    refers = [link["other"]["reference"] for link in resource.get("link", []) if link["type"] == "refer"]
    assert len(refers) == 1, resource
    return refers[0]


def goldens(fhir, resource_type="Patient") -> list[dict]:
    bundle = fhir.get(f"/{resource_type}", params={"_tag": GOLDEN}).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def review_tasks(fhir) -> list[dict]:
    bundle = fhir.get("/Task", params={"_tag": "urn:passerelle:mdm|match-review", "status": "requested"}).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def parameters(*parts) -> dict:
    return {"resourceType": "Parameters", "parameter": list(parts)}
