"""Helpers for the authorization-server tests: generated client keys, signed client
assertions. Keys are generated per test run; none is stored."""

from __future__ import annotations

import time
import uuid

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def rsa_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


def ec_key() -> ECKey:
    key = ECKey.generate_key("P-384", private=True)
    key.ensure_kid()
    return key


def assertion(key, client_id: str, token_url: str, *, alg: str | None = None, **overrides) -> str:
    alg = alg or ("ES384" if isinstance(key, ECKey) else "RS384")
    claims = {"iss": client_id, "sub": client_id, "aud": token_url, "exp": int(time.time()) + 240,
              "jti": uuid.uuid4().hex}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[alg])


def backend_token(web, token_url, client_id, key, scope="system/Observation.rs", **claims) -> httpx.Response:
    return web.post("/auth/token", data={
        "grant_type": "client_credentials", "scope": scope, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(key, client_id, token_url, **claims)})
