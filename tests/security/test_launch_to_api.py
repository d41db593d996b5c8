"""End to end: a real standalone launch (login, consent, PKCE, token endpoint) gives a
patient token that the enforced API honours: its patient's data, nothing of another."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from server.auth import registry

REDIRECT = "https://app.example/cb"


def test_standalone_launch_token_reaches_its_patient_only(secure, two_patients):
    registry.add_client(secure.ctx, "chart-app", client_type="public", redirect_uris=[REDIRECT],
                        scopes=["launch/patient", "patient/*.rs"], launch=["standalone"])
    registry.add_user(secure.ctx, "carer", "long pass phrase")
    verifier = secrets.token_urlsafe(48)
    params = {"response_type": "code", "client_id": "chart-app", "redirect_uri": REDIRECT,
              "scope": "launch/patient patient/*.rs", "state": "s", "aud": f"{secure.url}/fhir",
              "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    with httpx.Client(base_url=secure.url, timeout=60) as web:
        r = web.post("/auth/authorize", data={**params, "username": "carer", "password": "long pass phrase",
                                              "patient": "A", "decision": "approve"})
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        body = web.post("/auth/token", data={"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": REDIRECT, "client_id": "chart-app",
                                             "code_verifier": verifier}).json()
    assert body["patient"] == "A"
    headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": "application/fhir+json"}
    with httpx.Client(base_url=f"{secure.url}/fhir", headers=headers, timeout=60) as app:
        assert app.get("Patient/A").status_code == 200
        assert app.get("Patient/B").status_code == 404
        found = {e["resource"]["id"] for e in app.get("Observation").json()["entry"]}
        assert found == {"a-lab", "a-vital", "a-focus"}
