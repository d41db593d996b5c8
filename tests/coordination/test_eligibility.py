"""CoverageEligibilityRequest: POST and $submit answered from Coverage, plan, EOBs, network;
a remote payer plugged in through PASSERELLE_PAYER_ENDPOINTS (a fake payer over HTTP)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.coordination.helpers import created

CATEGORY = "http://terminology.hl7.org/CodeSystem/ex-benefitcategory"
PHYSIO = {"coding": [{"system": CATEGORY, "code": "PHYSIO"}]}  # synthetic category code
DENTAL = {"coding": [{"system": CATEGORY, "code": "35"}]}
REMAINING = "http://passerelle.example/StructureDefinition/benefit-remaining"


@pytest.fixture
def insured(fhir):
    """A patient covered by a payer whose plan pays 10 physiotherapy visits a year in its network."""
    payer = created(fhir.post("/Organization", json={"resourceType": "Organization", "name": "Mutuelle Exemple"}))
    clinic = created(fhir.post("/Organization", json={"resourceType": "Organization", "name": "Cabinet A"}))
    elsewhere = created(fhir.post("/Organization", json={"resourceType": "Organization", "name": "Cabinet B"}))
    physio = created(fhir.post("/Practitioner", json={"resourceType": "Practitioner"}))
    created(fhir.post("/PractitionerRole", json={"resourceType": "PractitionerRole",
                                                "practitioner": {"reference": f"Practitioner/{physio['id']}"},
                                                "organization": {"reference": f"Organization/{clinic['id']}"}}))
    created(fhir.post("/InsurancePlan", json={
        "resourceType": "InsurancePlan", "status": "active",
        "identifier": [{"system": "http://payer.example/plans", "value": "GOLD"}],
        "ownedBy": {"reference": f"Organization/{payer['id']}"},
        "network": [{"reference": f"Organization/{clinic['id']}"}],
        "coverage": [{"type": {"text": "medical"}, "benefit": [
            {"type": PHYSIO, "requirement": "prescription needed",
             "limit": [{"value": {"value": 10, "unit": "visit"}}]},
            {"type": {"coding": [{"system": CATEGORY, "code": "30"}]},
             "limit": [{"value": {"value": 1000, "code": "EUR", "system": "urn:iso:std:iso:4217"}}]}]}]}))
    patient = created(fhir.post("/Patient", json={"resourceType": "Patient",
                                                  "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8",
                                                                  "value": "190017512345678"}]}))
    coverage = created(fhir.post("/Coverage", json={
        "resourceType": "Coverage", "status": "active",
        "beneficiary": {"reference": f"Patient/{patient['id']}"},
        "payor": [{"reference": f"Organization/{payer['id']}"}],
        "period": {"start": "2031-01-01", "end": "2031-12-31"},
        "class": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                        "code": "plan"}]}, "value": "GOLD"}]}))
    for day in ("2031-02-01", "2031-02-08", "2030-12-01"):  # two visits this year, one last year
        created(fhir.post("/ExplanationOfBenefit", json={
            "resourceType": "ExplanationOfBenefit", "status": "active", "use": "claim", "outcome": "complete",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                                 "code": "professional"}]},
            "patient": {"reference": f"Patient/{patient['id']}"}, "created": day + "T10:00:00Z",
            "insurer": {"reference": f"Organization/{payer['id']}"},
            "provider": {"reference": f"Organization/{clinic['id']}"},
            "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{coverage['id']}"}}],
            "item": [{"sequence": 1, "category": PHYSIO, "servicedDate": day,
                      "productOrService": {"text": "physiotherapy session"},
                      "adjudication": [{"category": {"coding": [{"code": "benefit"}]},
                                        "amount": {"value": 30, "currency": "EUR"}}]}]}))
    return {"payer": payer, "clinic": clinic, "elsewhere": elsewhere, "physio": physio, "patient": patient,
            "coverage": coverage}


def request(data, *, provider: str | None = None, date: str = "2031-03-03", items=(PHYSIO,)) -> dict:
    body = {"resourceType": "CoverageEligibilityRequest", "status": "active", "purpose": ["benefits"],
            "patient": {"reference": f"Patient/{data['patient']['id']}"}, "created": "2031-03-01T10:00:00Z",
            "servicedDate": date, "insurer": {"reference": f"Organization/{data['payer']['id']}"},
            "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{data['coverage']['id']}"}}],
            "item": [{"category": c} for c in items]}
    if provider:
        body["provider"] = {"reference": provider}
    return body


def test_submit_answers_benefits_used_remaining_and_network(fhir, insured):
    response = fhir.post("/CoverageEligibilityRequest/$submit",
                         json=request(insured, provider=f"Practitioner/{insured['physio']['id']}",
                                      items=(PHYSIO, DENTAL)))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["resourceType"] == "CoverageEligibilityResponse" and answer["outcome"] == "complete"
    insurance = answer["insurance"][0]
    assert insurance["inforce"] is True
    physio, dental = insurance["item"]
    assert physio["excluded"] is False and physio["network"]["coding"][0]["code"] == "in"
    benefit = physio["benefit"][0]
    assert (benefit["allowedUnsignedInt"], benefit["usedUnsignedInt"]) == (10, 2)
    assert benefit["extension"] == [{"url": REMAINING, "valueUnsignedInt": 8}]
    assert physio["description"] == "prescription needed"
    assert dental["excluded"] is True
    # stored, linked to its request, findable
    stored = fhir.get("/CoverageEligibilityResponse", params={"request": answer["request"]["reference"]}).json()
    assert stored["total"] == 1
    assert fhir.get(f"/{answer['request']['reference']}").json()["status"] == "active"


def test_money_benefit_and_out_of_network(fhir, insured):
    general = {"coding": [{"system": CATEGORY, "code": "30"}]}
    answer = fhir.post("/CoverageEligibilityRequest/$submit", json=request(
        insured, provider=f"Organization/{insured['elsewhere']['id']}", items=(general,))).json()
    item = answer["insurance"][0]["item"][0]
    assert item["network"]["coding"][0]["code"] == "out"
    benefit = item["benefit"][0]
    assert benefit["allowedMoney"] == {"value": 1000, "currency": "EUR"}
    assert benefit["usedMoney"] == {"value": 0, "currency": "EUR"}  # no EOB item in category 30


def test_coverage_not_in_force_on_the_date(fhir, insured):
    answer = fhir.post("/CoverageEligibilityRequest/$submit", json=request(insured, date="2032-01-15")).json()
    assert answer["insurance"][0]["inforce"] is False
    assert "item" not in answer["insurance"][0]
    assert answer["disposition"] == "Coverage not in force on the service date"


def test_plain_post_gets_a_response_in_the_same_transaction(fhir, insured, coordination):
    posted = created(fhir.post("/CoverageEligibilityRequest", json=request(insured)))
    found = fhir.get("/CoverageEligibilityResponse",
                     params={"request": f"CoverageEligibilityRequest/{posted['id']}"}).json()
    assert found["total"] == 1
    assert found["entry"][0]["resource"]["insurance"][0]["item"][0]["benefit"][0]["usedUnsignedInt"] == 2
    # $submit does not answer twice when the listener is installed
    fhir.post("/CoverageEligibilityRequest/$submit", json=request(insured))
    assert fhir.get("/CoverageEligibilityResponse").json()["total"] == 2


def test_bad_requests(fhir, insured):
    unknown = request(insured)
    unknown["insurance"][0]["coverage"]["reference"] = "Coverage/nope"
    response = fhir.post("/CoverageEligibilityRequest/$submit", json=unknown)
    assert response.status_code == 404
    assert response.json()["issue"][0]["expression"] == ["CoverageEligibilityRequest.insurance[0].coverage"]
    other = created(fhir.post("/Patient", json={"resourceType": "Patient"}))
    foreign = request(insured)
    foreign["patient"]["reference"] = f"Patient/{other['id']}"
    response = fhir.post("/CoverageEligibilityRequest/$submit", json=foreign)
    assert response.status_code == 422 and "is not a coverage of" in response.json()["issue"][0]["diagnostics"]
    wrong = fhir.post("/CoverageEligibilityRequest/$submit", json={"resourceType": "Patient"})
    assert wrong.status_code == 400 and wrong.json()["issue"][0]["expression"] == ["resource"]
    assert fhir.get("/CoverageEligibilityRequest").json()["total"] == 0  # nothing half-written


class FakePayer(BaseHTTPRequestHandler):
    """Stands for a payer's FHIR server (outside Passerelle): the one mock allowed."""

    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakePayer.received.append((self.path, body))
        answer = {"resourceType": "CoverageEligibilityResponse", "id": "payer-side-id", "status": "active",
                  "purpose": ["benefits"], "patient": {"reference": "Patient/payer-side"},
                  "created": "2031-03-01T10:00:01Z", "request": {"reference": "CoverageEligibilityRequest/x"},
                  "outcome": "complete", "insurer": {"display": "Remote payer"},
                  "insurance": [{"coverage": {"reference": "Coverage/payer-side"}, "inforce": True}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_remote_payer_answers_for_its_insurer(fhir, insured, server):
    payer_server = HTTPServer(("127.0.0.1", 0), FakePayer)
    threading.Thread(target=payer_server.serve_forever, daemon=True).start()
    settings = server.ctx.settings
    url = f"http://127.0.0.1:{payer_server.server_port}/fhir"
    server.ctx.settings = replace(settings, payer_endpoints=f"Organization/{insured['payer']['id']}={url}")
    FakePayer.received.clear()
    try:
        answer = fhir.post("/CoverageEligibilityRequest/$submit", json=request(insured)).json()
    finally:
        server.ctx.settings = settings
        payer_server.shutdown()
    path, sent = FakePayer.received[0]
    assert path == "/fhir/CoverageEligibilityRequest/$submit"
    # only identifiers leave: the patient and the beneficiary go as the patient's identifier
    assert sent["patient"] == {"type": "Patient", "identifier": {"system": "urn:oid:1.2.250.1.213.1.4.8",
                                                                  "value": "190017512345678"}}
    assert sent["contained"][0]["resourceType"] == "Coverage"
    assert sent["insurance"][0]["coverage"] == {"reference": "#coverage0"}
    assert answer["insurer"] == {"display": "Remote payer"}
    assert answer["patient"] == {"reference": f"Patient/{insured['patient']['id']}"}
    assert answer["insurance"][0]["coverage"] == {"reference": f"Coverage/{insured['coverage']['id']}"}
    assert answer["id"] != "payer-side-id"


def test_an_unreachable_payer_is_a_502(fhir, insured, server):
    settings = server.ctx.settings
    nowhere = "http://127.0.0.1:9/fhir"  # the discard port: nothing listens
    server.ctx.settings = replace(settings, payer_endpoints=f"Organization/{insured['payer']['id']}={nowhere}",
                                  payer_timeout_seconds=2)
    try:
        response = fhir.post("/CoverageEligibilityRequest/$submit", json=request(insured))
    finally:
        server.ctx.settings = settings
    assert response.status_code == 502 and response.json()["issue"][0]["code"] == "transient"
