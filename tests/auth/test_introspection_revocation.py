"""Introspection (RFC 7662), revocation (RFC 7009) and verify_access_token."""

from __future__ import annotations

import time

from auth_helpers import ASSERTION_TYPE, assertion, backend_token
from joserfc import jwt

from server.auth import keys
from server.auth.tokens import verify_access_token


def _token(web, token_url, backend) -> str:
    client_id, k = backend
    return backend_token(web, token_url, client_id, k["RS384"], scope="system/*.rs").json()["access_token"]


def _introspect(web, bearer: str, token: str):
    return web.post("/auth/introspect", data={"token": token}, headers={"Authorization": f"Bearer {bearer}"})


def test_active_token(server, web, token_url, backend):
    token = _token(web, token_url, backend)
    r = _introspect(web, token, token)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["active"] is True
    assert body["scope"] == "system/*.rs" and body["client_id"] == "backend-app"
    assert body["exp"] > time.time() and body["sub"] == "backend-app"


def test_introspection_with_client_assertion(web, token_url, backend):
    token = _token(web, token_url, backend)
    client_id, k = backend
    r = web.post("/auth/introspect", data={"token": token, "client_assertion_type": ASSERTION_TYPE,
                                           "client_assertion": assertion(k["ES384"], client_id, token_url)})
    assert r.json()["active"] is True


def test_bad_tokens_are_exactly_inactive(server, web, token_url, backend):
    bearer = _token(web, token_url, backend)
    key = keys.signing_key(server.ctx)
    expired = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"},
                         {"client_id": "backend-app", "jti": "x", "exp": int(time.time()) - 10, "scope": "s"},
                         key, algorithms=["RS256"])
    for bad in ("garbage", "", "a.b.c", expired, bearer[:-4] + "AAAA"):
        assert _introspect(web, bearer, bad).json() == {"active": False}


def test_introspection_needs_a_caller(web, token_url, backend):
    token = _token(web, token_url, backend)
    r = web.post("/auth/introspect", data={"token": token})
    assert r.status_code == 401


def test_revoked_token_is_inactive(server, web, token_url, backend):
    token = _token(web, token_url, backend)
    bearer = _token(web, token_url, backend)
    client_id, k = backend
    r = web.post("/auth/revoke", data={"token": token, "client_assertion_type": ASSERTION_TYPE,
                                       "client_assertion": assertion(k["RS384"], client_id, token_url)})
    assert r.status_code == 200
    assert _introspect(web, bearer, token).json() == {"active": False}
    assert verify_access_token(server.ctx, token) is None
    # Revoking an unknown token is answered the same way.
    r = web.post("/auth/revoke", data={"token": "unknown", "client_assertion_type": ASSERTION_TYPE,
                                       "client_assertion": assertion(k["RS384"], client_id, token_url)})
    assert r.status_code == 200


def test_revocation_needs_client_authentication(web, token_url, backend):
    token = _token(web, token_url, backend)
    r = web.post("/auth/revoke", data={"token": token, "client_id": "backend-app"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_verify_access_token(server, web, token_url, backend):
    token = verify_access_token(server.ctx, _token(web, token_url, backend))
    assert token.client_id == "backend-app" and token.scopes == ("system/*.rs",)
    assert token.expires.timestamp() > 0 and token.patient is None
    assert verify_access_token(server.ctx, "not a token") is None
    # A JWT of ours that is not an access token (no at+jwt type) is refused.
    key = keys.signing_key(server.ctx)
    id_like = jwt.encode({"alg": "RS256", "kid": key.kid}, {"client_id": "c", "jti": "j",
                                                           "exp": int(time.time()) + 60}, key, algorithms=["RS256"])
    assert verify_access_token(server.ctx, id_like) is None
