"""The CDS client JWT (CDS Hooks 2.0 "Trusting CDS Clients") on a server with auth on."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey

from tests.alerts.fhirdata import allergy, order
from tests.cdshooks.conftest import _serve, client_jwt
from tests.cdshooks.hooks import bundle, request

SERVICE = "/cds-services/passerelle-patient-alerts"


def prefetched_conflict() -> dict:
    return {"medicationRequests": bundle([{**order("p1", text="amoxicillin"), "id": "m1"}]),
            "medicationStatements": bundle([]),
            "allergies": bundle([{**allergy("p1", text="penicillin"), "id": "a1"}])}


@pytest.fixture
def http(secured):
    with secured.client() as client:
        yield client


def call(http, token: str | None, path: str = SERVICE):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(path, json=request("patient-view", "p1", prefetch=prefetched_conflict()), headers=headers)


def test_discovery_is_public(http):
    assert http.get("/cds-services").status_code == 200


def test_signed_call_is_served(http, secured, ehr_key):
    r = call(http, client_jwt(ehr_key, f"{secured.url}{SERVICE}"))
    assert r.status_code == 200, r.text
    assert [c["indicator"] for c in r.json()["cards"]] == ["critical"]


@pytest.mark.parametrize("case", ["none", "garbage", "audience", "expired", "too-long", "issuer", "other-key"])
def test_refused(http, secured, ehr_key, case):
    aud = f"{secured.url}{SERVICE}"
    token = {
        "none": None,
        "garbage": "not.a.jwt",
        "audience": client_jwt(ehr_key, f"{secured.url}/cds-services/another"),
        "expired": client_jwt(ehr_key, aud, lifetime=-120),
        "too-long": client_jwt(ehr_key, aud, lifetime=3600),
        "issuer": client_jwt(ehr_key, aud, issuer="https://intruder.example.org"),
        "other-key": client_jwt(ECKey.generate_key("P-384", parameters={"kid": "ehr-1"}), aud),
    }[case]
    r = call(http, token)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "cards" not in r.json()


def test_replayed_token_is_refused(http, secured, ehr_key):
    token = client_jwt(ehr_key, f"{secured.url}{SERVICE}", jti="once-only")
    assert call(http, token).status_code == 200
    r = call(http, token)
    assert r.status_code == 401 and "already used" in r.json()["error"]


def test_feedback_needs_the_jwt_too(http, secured, ehr_key):
    body = {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-12-02T01:00:00Z"}]}
    assert http.post(f"{SERVICE}/feedback", json=body).status_code == 401
    token = client_jwt(ehr_key, f"{secured.url}{SERVICE}")
    r = http.post(f"{SERVICE}/feedback", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def test_auth_on_without_trusted_clients_refuses_calls(tmp_path_factory):
    live, stop = _serve("sqlite", tmp_path_factory, "_cdsnone", auth="enabled")
    try:
        with live.client() as http:
            assert http.get("/cds-services").status_code == 200
            r = call(http, None)
            assert r.status_code == 401 and "PASSERELLE_CDS_HOOKS_CLIENTS" in r.json()["error"]
    finally:
        stop()
