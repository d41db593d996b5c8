"""SMART configuration, OpenID discovery, JWKS and CORS, over HTTP."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from server.auth import keys

REQUIRED = ["issuer", "jwks_uri", "authorization_endpoint", "grant_types_supported", "token_endpoint",
            "token_endpoint_auth_methods_supported", "scopes_supported", "response_types_supported",
            "capabilities", "code_challenge_methods_supported", "introspection_endpoint", "revocation_endpoint"]


def test_smart_configuration_has_every_required_field(server, web):
    r = web.get("/fhir/.well-known/smart-configuration", headers={"Origin": "https://app.example"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    body = r.json()
    assert [f for f in REQUIRED if f not in body] == []
    assert body["issuer"] == f"{server.url}/fhir"
    assert body["token_endpoint"] == f"{server.url}/auth/token"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
    assert {"client_credentials", "authorization_code", "refresh_token"} <= set(body["grant_types_supported"])
    assert "launch-standalone" in body["capabilities"]


def test_openid_configuration_at_issuer_and_root(server, web):
    for path in ("/fhir/.well-known/openid-configuration", "/.well-known/openid-configuration"):
        body = web.get(path).json()
        assert body["issuer"] == f"{server.url}/fhir"
        assert body["id_token_signing_alg_values_supported"] == ["RS256"]
        assert body["response_types_supported"] == ["code"]


def test_cors_preflight_on_token_endpoint(web):
    r = web.options("/auth/token", headers={"Origin": "https://app.example",
                                            "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]


def test_jwks_publishes_the_public_signing_key_only(server, web):
    body = web.get("/auth/jwks").json()
    assert body["keys"] and all("d" not in k and k["kty"] == "RSA" for k in body["keys"])
    key = keys.signing_key(server.ctx)
    assert key.kid in [k["kid"] for k in body["keys"]]
    # A token signed with the server key verifies against the published set.
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, {"x": 1}, key, algorithms=["RS256"])
    assert jwt.decode(token, KeySet.import_key_set(body), algorithms=["RS256"]).claims == {"x": 1}


def test_signing_key_is_generated_once_and_stored(server):
    keys.forget(server.ctx)  # as a first start: empty table, empty cache
    first = keys.signing_key(server.ctx)
    keys.forget(server.ctx)  # another worker, or a restart, loads the same key
    assert keys.signing_key(server.ctx).kid == first.kid
