"""Every CDS Hooks call on a server with auth on leaves an AuditEvent: who called (the
EHR's JWT iss and sub, the clinician's id), which service and hook, which patient;
refused calls too. Ids only: nothing prefetched, no card text."""

from __future__ import annotations

from server.auth.tokens import issue_access_token
from tests.cdshooks.conftest import EHR, client_jwt
from tests.cdshooks.test_auth import SERVICE, call

CDS_CLIENT = "urn:passerelle:cds-client"


def audit_trail(secured) -> list[dict]:
    token, _ = issue_access_token(secured.ctx, issuer=f"{secured.url}/fhir", audience=f"{secured.url}/fhir",
                                  client_id="auditor", scopes=["system/AuditEvent.rs"], subject="auditor")
    with secured.client(headers={"Authorization": f"Bearer {token}"}) as fhir:
        r = fhir.get("/fhir/AuditEvent", params={"_count": 100})
        assert r.status_code == 200, r.text
        events = [e["resource"] for e in r.json().get("entry", [])]
    return [e for e in events if e["source"]["observer"]["display"] == "Passerelle CDS Hooks"]


def test_a_served_call_is_audited(secured, ehr_key):
    with secured.client() as http:
        r = call(http, client_jwt(ehr_key, f"{secured.url}{SERVICE}"))
        assert r.status_code == 200, r.text
    [event] = audit_trail(secured)
    assert event["outcome"] == "0" and event["outcomeDesc"] == "HTTP 200"
    assert event["subtype"] == [{"system": "https://cds-hooks.hl7.org/hooks", "code": "patient-view"}]
    ehr, user = event["agent"]
    assert ehr["who"]["identifier"] == {"system": CDS_CLIENT, "value": EHR} and ehr["altId"] == "ehr-client"
    assert ehr["network"]["address"] == "127.0.0.1"
    assert user["who"] == {"reference": "Practitioner/dr-1"}
    service, patient = event["entity"]
    assert service["what"]["identifier"]["value"] == SERVICE.rsplit("/", 1)[1]
    assert service["detail"][0]["type"] == "hookInstance"
    assert patient["what"] == {"reference": "Patient/p1"}
    text = str(event)
    assert "penicillin" not in text and "amoxicillin" not in text  # prefetch and cards stay out


def test_refused_calls_and_feedback_are_audited(secured, ehr_key):
    with secured.client() as http:
        assert call(http, None).status_code == 401
        body = {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-12-02T01:00:00Z"}]}
        token = client_jwt(ehr_key, f"{secured.url}{SERVICE}")
        r = http.post(f"{SERVICE}/feedback", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        token = client_jwt(ehr_key, f"{secured.url}{SERVICE}")
        assert http.post(SERVICE, json={"hook": "patient-view"},
                         headers={"Authorization": f"Bearer {token}"}).status_code == 400
    events = sorted(audit_trail(secured), key=lambda e: e["recorded"])
    assert [(e["outcomeDesc"], e["action"]) for e in events] == [("HTTP 401", "E"), ("HTTP 200", "C"),
                                                                  ("HTTP 400", "E")]
    refused, feedback, bad = events
    assert refused["agent"][0]["who"] == {"display": "unauthenticated"} and len(refused["entity"]) == 1
    assert feedback["agent"][0]["who"]["identifier"]["value"] == EHR
    assert bad["agent"][0]["who"]["identifier"]["value"] == EHR


def test_open_services_are_not_audited(cds):
    """Auth disabled (development): as for REST, nothing is audited."""
    from tests.cdshooks.hooks import request

    with cds.client() as http:
        assert http.post(SERVICE, json=request("patient-view", "p1")).status_code == 200
    with cds.ctx.store.read() as uow:
        assert uow.history("AuditEvent", count=10) == []
