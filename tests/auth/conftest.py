"""Fixtures of the authorization-server tests (helpers: auth_helpers.py)."""

from __future__ import annotations

import httpx
import pytest
from auth_helpers import ec_key, rsa_key
from joserfc.jwk import KeySet

from server.auth import registry


@pytest.fixture
def web(server):
    """An HTTP client on the server root (auth endpoints live outside /fhir)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def token_url(server) -> str:
    return f"{server.url}/auth/token"


@pytest.fixture
def backend(server):
    """A backend client with one RS384 and one ES384 key; returns (client_id, {alg: key})."""
    keys = {"RS384": rsa_key(), "ES384": ec_key()}
    jwks = KeySet(list(keys.values())).as_dict(private=False)
    registry.add_client(server.ctx, "backend-app", client_type="confidential", jwks=jwks, launch=["backend"],
                        scopes=["system/*.rs", "system/Patient.cruds"])
    return "backend-app", keys

