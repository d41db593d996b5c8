"""SMART Backend Services: client_credentials with private_key_jwt (RS384 and ES384)."""

from __future__ import annotations

import time

import pytest
from auth_helpers import ASSERTION_TYPE, assertion, backend_token, rsa_key
from joserfc import jwt

from server.auth.tokens import verify_access_token


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_backend_token_with_generated_keys(server, web, token_url, backend, alg):
    client_id, keys = backend
    r = backend_token(web, token_url, client_id, keys[alg], scope="system/Observation.rs system/Patient.r")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 300
    assert body["scope"] == "system/Observation.rs system/Patient.r"
    token = verify_access_token(server.ctx, body["access_token"])
    assert token.client_id == client_id and token.scopes == ("system/Observation.rs", "system/Patient.r")
    assert token.user is None and token.patient is None


def test_granted_scopes_are_requested_intersect_allowed(web, token_url, backend):
    client_id, keys = backend
    r = backend_token(web, token_url, client_id, keys["RS384"],
                      scope="system/Observation.rs system/Observation.c patient/*.rs openid")
    assert r.status_code == 200
    assert r.json()["scope"] == "system/Observation.rs"


def test_nothing_grantable_is_invalid_scope(web, token_url, backend):
    client_id, keys = backend
    r = backend_token(web, token_url, client_id, keys["RS384"], scope="system/Observation.c")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_replayed_jti_is_refused(web, token_url, backend):
    client_id, keys = backend
    signed = assertion(keys["RS384"], client_id, token_url)
    data = {"grant_type": "client_credentials", "scope": "system/*.rs",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}
    assert web.post("/auth/token", data=data).status_code == 200
    r = web.post("/auth/token", data=data)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("claims, why", [
    ({"aud": "https://elsewhere.example/token"}, "wrong aud"),
    # Times as functions: parameters are built at collection, maybe many minutes before the test runs.
    ({"exp": lambda: int(time.time()) - 120}, "expired"),
    ({"exp": lambda: int(time.time()) + 900}, "exp more than 5 minutes ahead"),
    ({"exp": None}, "no exp"),
    ({"jti": None}, "no jti"),
    ({"sub": "someone-else"}, "sub differs from iss"),
])
def test_bad_assertion_claims_are_invalid_client(web, token_url, backend, claims, why):
    client_id, keys = backend
    claims = {name: value() if callable(value) else value for name, value in claims.items()}
    r = backend_token(web, token_url, client_id, keys["ES384"], **claims)
    assert r.status_code == 401, why
    assert r.json()["error"] == "invalid_client"


def test_assertion_signed_by_an_unregistered_key_is_refused(web, token_url, backend):
    client_id, _ = backend
    stranger = rsa_key()
    r = backend_token(web, token_url, client_id, stranger)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_registered_kid_with_a_forged_signature_is_refused(web, token_url, backend):
    client_id, keys = backend
    forger = rsa_key()
    forged = jwt.encode({"alg": "RS384", "kid": keys["RS384"].kid},
                        {"iss": client_id, "sub": client_id, "aud": token_url, "exp": int(time.time()) + 60,
                         "jti": "forged"}, forger, algorithms=["RS384"])
    r = web.post("/auth/token", data={"grant_type": "client_credentials", "scope": "system/*.rs",
                                      "client_assertion_type": ASSERTION_TYPE, "client_assertion": forged})
    assert r.status_code == 401


def test_rs256_assertion_is_not_accepted(web, token_url, backend):
    # SMART Backend Services names RS384 and ES384; nothing else is accepted.
    client_id, keys = backend
    r = backend_token(web, token_url, client_id, keys["RS384"], alg="RS256")
    assert r.status_code == 401


def test_unknown_client_and_unsupported_grant(web, token_url, backend):
    _, keys = backend
    r = backend_token(web, token_url, "nobody", keys["RS384"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = web.post("/auth/token", data={"grant_type": "password", "username": "a", "password": "b"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = web.post("/auth/token", json={"grant_type": "client_credentials"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
