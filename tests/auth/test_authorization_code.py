"""Standalone launch: authorization code with PKCE, login and consent page, id_token,
refresh tokens that only narrow; negative cases."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from server.auth import registry
from server.auth.tokens import verify_access_token

REDIRECT = "https://app.example/callback"
SCOPE = "launch/patient openid fhirUser offline_access patient/*.rs"


@pytest.fixture
def app_client(server):
    registry.add_client(server.ctx, "smart-app", client_type="public", redirect_uris=[REDIRECT],
                        scopes=SCOPE.split(), launch=["standalone"], name="Growth chart")
    registry.add_user(server.ctx, "alice", "correct horse", fhir_user="Practitioner/p1")


@pytest.fixture
def patient_id(server):
    with server.client() as fhir:
        r = fhir.post("/Patient", json={"resourceType": "Patient", "name": [{"family": "Durand"}]},
                      headers={"Content-Type": "application/fhir+json"})
        return r.headers["Location"].split("/Patient/")[1].split("/")[0]


def _request(server, verifier, **over):
    params = {"response_type": "code", "client_id": "smart-app", "redirect_uri": REDIRECT, "scope": SCOPE,
              "state": "st-1", "aud": f"{server.url}/fhir", "nonce": "n-1",
              "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def _query(response) -> dict:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _code(server, web, verifier, patient_id, **over) -> str:
    params = _request(server, verifier, **over)
    page = web.get("/auth/authorize", params=params)
    assert page.status_code == 200 and "<form" in page.text and "Growth chart" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    q = _query(web.post("/auth/authorize", data={**params, "username": "alice", "password": "correct horse",
                                                 "patient": patient_id, "decision": "approve"}))
    assert q["state"] == "st-1"
    return q["code"]


def _exchange(web, code, verifier):
    return web.post("/auth/token", data={"grant_type": "authorization_code", "code": code,
                                         "redirect_uri": REDIRECT, "client_id": "smart-app",
                                         "code_verifier": verifier})


def test_standalone_launch_end_to_end(server, web, app_client, patient_id):
    verifier = secrets.token_urlsafe(48)
    r = _exchange(web, _code(server, web, verifier, patient_id), verifier)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["patient"] == patient_id and body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == set(SCOPE.split())
    token = verify_access_token(server.ctx, body["access_token"])
    assert token.patient == patient_id and token.client_id == "smart-app"
    assert token.user == f"{server.url}/fhir/Practitioner/p1"
    # The id_token verifies against the published JWKS.
    jwks = KeySet.import_key_set(web.get("/auth/jwks").json())
    claims = jwt.decode(body["id_token"], jwks, algorithms=["RS256"]).claims
    assert claims["iss"] == f"{server.url}/fhir" and claims["aud"] == "smart-app"
    assert claims["fhirUser"] == f"{server.url}/fhir/Practitioner/p1" and claims["nonce"] == "n-1"
    # Refresh: same or narrower scopes only.
    refresh = body["refresh_token"]
    narrowed = web.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh,
                                             "client_id": "smart-app", "scope": "patient/Observation.rs"})
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "patient/Observation.rs"
    assert narrowed.json()["patient"] == patient_id
    wider = web.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh,
                                          "client_id": "smart-app", "scope": "patient/*.cruds"})
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


def test_code_is_single_use_and_needs_the_verifier(server, web, app_client, patient_id):
    verifier = secrets.token_urlsafe(48)
    code = _code(server, web, verifier, patient_id)
    wrong = _exchange(web, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt used the code up.
    assert _exchange(web, code, verifier).json()["error"] == "invalid_grant"
    code = _code(server, web, verifier, patient_id)
    assert _exchange(web, code, verifier).status_code == 200
    assert _exchange(web, code, verifier).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("over, error", [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"aud": "https://other.example/fhir"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "system/*.rs"}, "invalid_scope"),
])
def test_bad_requests_are_sent_back_to_the_app(server, web, app_client, over, error):
    q = _query(web.get("/auth/authorize", params=_request(server, "v" * 43, **over)))
    assert q["error"] == error and q["state"] == "st-1"


def test_unregistered_redirect_uri_is_not_followed(server, web, app_client):
    r = web.get("/auth/authorize", params=_request(server, "v" * 43, redirect_uri="https://evil.example/cb"))
    assert r.status_code == 400 and "location" not in r.headers


def test_wrong_password_and_deny(server, web, app_client, patient_id):
    params = _request(server, "v" * 43)
    r = web.post("/auth/authorize", data={**params, "username": "alice", "password": "wrong",
                                          "patient": patient_id, "decision": "approve"})
    assert r.status_code == 401 and "Wrong username or password" in r.text
    q = _query(web.post("/auth/authorize", data={**params, "decision": "deny"}))
    assert q["error"] == "access_denied"


def test_unknown_patient_is_refused(server, web, app_client):
    params = _request(server, "v" * 43)
    r = web.post("/auth/authorize", data={**params, "username": "alice", "password": "correct horse",
                                          "patient": "nobody", "decision": "approve"})
    assert r.status_code == 400 and "No such patient" in r.text
