"""Da Vinci PAS request Bundles as a provider system sends them, for the claims tests."""

from __future__ import annotations

from tests.coordination.helpers import created

SERVICE = "http://passerelle.example/CodeSystem/service"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"


def member(fhir) -> dict:
    """A patient, their payer and an active Coverage, as stored here."""
    patient = created(fhir.post("/Patient", json={"resourceType": "Patient", "identifier": [
        {"system": "http://hospital.example/mrn", "value": "MRN-42"}]}))
    payer = created(fhir.post("/Organization", json={"resourceType": "Organization", "identifier": [
        {"system": "http://payers.example", "value": "PAYER-1"}]}))
    coverage = created(fhir.post("/Coverage", json={
        "resourceType": "Coverage", "status": "active", "identifier": [{"system": "http://payers.example/members",
                                                                        "value": "M-1"}],
        "beneficiary": {"reference": f"Patient/{patient['id']}"},
        "payor": [{"reference": f"Organization/{payer['id']}"}], "period": {"start": "2031-01-01"}}))
    return {"patient": patient, "payer": payer, "coverage": coverage}


def item(sequence: int, code: str, *, quantity: int = 1, price: int = 500, date: str = "2031-04-01") -> dict:
    return {"sequence": sequence, "productOrService": {"coding": [{"system": SERVICE, "code": code}]},
            "servicedDate": date, "quantity": {"value": quantity}, "unitPrice": {"value": price, "currency": "EUR"}}


def pas_bundle(data, items: list[dict], *, use: str = "preauthorization", identifier: str = "PA-REQ-1",
               pre_auth_ref: str | None = None, created: str = "2031-03-20T09:00:00Z") -> dict:
    """A PAS request Bundle as a provider system sends it: its own ids, our identifiers."""
    insurance = {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/theirs-cov"}}
    if pre_auth_ref:
        insurance["preAuthRef"] = [pre_auth_ref]
    claim = {"resourceType": "Claim", "id": "theirs-claim", "status": "active", "use": use,
             "identifier": [{"system": "http://provider.example/requests", "value": identifier}],
             "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
             "patient": {"reference": "Patient/theirs-pat"}, "created": created,
             "insurer": {"reference": "Organization/theirs-payer"},
             "provider": {"reference": "Organization/theirs-prov"},
             "priority": {"coding": [{"code": "normal"}]}, "insurance": [insurance], "item": items}
    resources = [
        claim,
        {"resourceType": "Patient", "id": "theirs-pat", "identifier": data["patient"]["identifier"]},
        {"resourceType": "Organization", "id": "theirs-payer", "identifier": data["payer"]["identifier"]},
        {"resourceType": "Organization", "id": "theirs-prov", "name": "Clinique du Parc",
         "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "330000000"}]},
        {"resourceType": "Coverage", "id": "theirs-cov", "status": "active",
         "identifier": data["coverage"]["identifier"], "beneficiary": {"reference": "Patient/theirs-pat"},
         "payor": [{"reference": "Organization/theirs-payer"}]},
    ]
    return {"resourceType": "Bundle", "type": "collection", "timestamp": "2031-03-20T09:00:00Z",
            "identifier": {"system": "http://provider.example/bundles", "value": identifier},
            "entry": [{"fullUrl": f"http://provider.example/fhir/{r['resourceType']}/{r['id']}", "resource": r}
                      for r in resources]}


def actions(response: dict) -> list[str]:
    out = []
    for it in response["item"]:
        review = next(e for e in it["adjudication"][0]["extension"] if e["url"].endswith("extension-reviewAction"))
        code = next(p for p in review["extension"] if p["url"].endswith("extension-reviewActionCode"))
        out.append(code["valueCodeableConcept"]["coding"][0]["code"])
    return out


def submit(fhir, bundle: dict):
    response = fhir.post("/Claim/$submit", json=bundle)
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json()["entry"]]
