"""EHR launch (launch id from the CLI and from /auth/launch) and the standalone
launch/encounter picker; fhirContext in the token response."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from server.auth import registry
from server.auth.launch import issue_launch, read_launch
from server.auth.tokens import issue_access_token

REDIRECT = "https://ehr-app.example/cb"
JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def ehr_app(server):
    registry.add_client(server.ctx, "ehr-app", client_type="public", redirect_uris=[REDIRECT], launch=["ehr",
                        "standalone"], scopes=["launch", "launch/patient", "launch/encounter", "patient/*.rs",
                                               "openid", "fhirUser"])
    registry.add_user(server.ctx, "nurse", "pass phrase", fhir_user="Practitioner/n1")
    registry.add_user(server.ctx, "other", "pass phrase")


@pytest.fixture
def chart(fhir):
    patient = fhir.post("/Patient", json={"resourceType": "Patient"}, headers=JSON).json()["id"]
    encounters = [fhir.post("/Encounter", headers=JSON, json={
        "resourceType": "Encounter", "status": "in-progress", "subject": {"reference": f"Patient/{patient}"},
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code}}).json()["id"]
        for code in ("IMP", "AMB")]
    fhir.post("/Encounter", headers=JSON, json={"resourceType": "Encounter", "status": "finished", "class": {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}})  # someone else's
    return patient, encounters


def _params(server, verifier, scope, **extra):
    return {"response_type": "code", "client_id": "ehr-app", "redirect_uri": REDIRECT, "scope": scope,
            "state": "s", "aud": f"{server.url}/fhir", "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256", **extra}


def _token(web, location: str, verifier: str) -> dict:
    code = parse_qs(urlsplit(location).query)["code"][0]
    r = web.post("/auth/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                      "client_id": "ehr-app", "code_verifier": verifier})
    assert r.status_code == 200, r.text
    return r.json()


def test_ehr_launch_from_the_cli(server, web, ehr_app, chart):
    patient, (inpatient, _) = chart
    r = subprocess.run([sys.executable, "-m", "interfaces.cli.main", "launch", "--patient", patient, "--encounter",
                        inpatient, "--user", "nurse", "--app-url", "https://ehr-app.example/launch",
                        "--database-url", server.ctx.settings.database_url], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    launch, url = r.stdout.split()
    assert url.startswith("https://ehr-app.example/launch?launch=")
    verifier = secrets.token_urlsafe(48)
    params = _params(server, verifier, "launch patient/*.rs openid fhirUser", launch=launch)
    page = web.get("/auth/authorize", params=params)
    assert page.status_code == 200 and 'name="patient"' not in page.text  # the launch fixes the patient
    wrong = web.post("/auth/authorize", data={**params, "username": "other", "password": "pass phrase",
                                              "decision": "approve"})
    assert wrong.status_code == 403 and "another user" in wrong.text
    r = web.post("/auth/authorize", data={**params, "username": "nurse", "password": "pass phrase",
                                          "decision": "approve"})
    body = _token(web, r.headers["location"], verifier)
    assert body["patient"] == patient and body["encounter"] == inpatient
    assert body["fhirContext"] == [{"reference": f"Encounter/{inpatient}"}]


def test_launch_endpoint_needs_a_token_that_reads_the_patient(server, web, chart):
    patient, _ = chart
    def bearer(scopes, **kw):
        token, _ = issue_access_token(server.ctx, issuer="i", audience="a", client_id="ehr", scopes=scopes,
                                      subject="ehr", **kw)
        return {"Authorization": f"Bearer {token}"}
    assert web.post("/auth/launch", data={"patient": patient}).status_code == 401
    r = web.post("/auth/launch", data={"patient": patient}, headers=bearer(["patient/*.rs"], patient=patient))
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    r = web.post("/auth/launch", data={"patient": patient}, headers=bearer(["system/Patient.rs"]))
    assert r.status_code == 200, r.text
    assert read_launch(server.ctx, r.json()["launch"]).patient == patient


def test_bad_launch_ids_are_refused(server, web, ehr_app, chart):
    patient, _ = chart
    forged = issue_launch(server.ctx, patient=patient)[:-4] + "AAAA"
    for launch in ("nope", forged):
        r = web.get("/auth/authorize", params=_params(server, "v" * 43, "launch patient/*.rs", launch=launch))
        assert r.status_code == 303 and "error=invalid_request" in r.headers["location"]
    r = web.get("/auth/authorize", params=_params(server, "v" * 43, "patient/*.rs",
                                                   launch=issue_launch(server.ctx, patient=patient)))
    assert "error=invalid_scope" in r.headers["location"]


def test_standalone_encounter_picker(server, web, ehr_app, chart):
    patient, encounters = chart
    verifier = secrets.token_urlsafe(48)
    params = _params(server, verifier, "launch/patient launch/encounter patient/*.rs")
    picker = web.post("/auth/authorize", data={**params, "username": "nurse", "password": "pass phrase",
                                               "patient": patient, "decision": "approve"})
    assert picker.status_code == 200 and "<select" in picker.text and "pass phrase" not in picker.text
    offered = set(re.findall(r'<option value="([^"]+)"', picker.text))
    assert offered == set(encounters)
    ticket = re.search(r'name="ticket" value="([^"]+)"', picker.text).group(1)
    stranger = web.post("/auth/authorize", data={**params, "ticket": ticket, "encounter": "elsewhere",
                                                 "decision": "approve"})
    assert stranger.status_code == 400
    # A ticket is bound to its authorization request (PKCE challenge).
    other = _params(server, "w" * 43, "launch/patient launch/encounter patient/*.rs")
    assert web.post("/auth/authorize", data={**other, "ticket": ticket, "encounter": encounters[1],
                                             "decision": "approve"}).status_code == 401
    r = web.post("/auth/authorize", data={**params, "ticket": ticket, "encounter": encounters[1],
                                          "decision": "approve"})
    assert r.status_code == 303, r.text
    body = _token(web, r.headers["location"], verifier)
    assert body["patient"] == patient and body["fhirContext"] == [{"reference": f"Encounter/{encounters[1]}"}]
