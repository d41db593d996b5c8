"""SMART configuration (App Launch 2.2 section 2.0.6), OpenID discovery and the JWKS."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from . import keys, scopes
from .errors import CORS
from .urls import endpoint, issuer

router = APIRouter()

CAPABILITIES = ["launch-standalone", "launch-ehr", "client-public", "client-confidential-asymmetric",
                "context-standalone-patient", "context-standalone-encounter", "context-ehr-patient",
                "context-ehr-encounter",
                "permission-offline", "permission-online", "permission-patient", "permission-user",
                "permission-v1", "permission-v2", "sso-openid-connect", "authorize-post"]
GRANT_TYPES = ["authorization_code", "client_credentials", "refresh_token"]
AUTH_METHODS = ["private_key_jwt", "none"]
ASSERTION_ALGS = ["RS384", "ES384"]


def smart_configuration(request: Request) -> dict:
    return {
        "issuer": issuer(request),
        "jwks_uri": endpoint(request, "jwks"),
        "authorization_endpoint": endpoint(request, "authorize"),
        "token_endpoint": endpoint(request, "token"),
        "introspection_endpoint": endpoint(request, "introspect"),
        "revocation_endpoint": endpoint(request, "revoke"),
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "scopes_supported": scopes.SUPPORTED,
        "response_types_supported": ["code"],
        "capabilities": CAPABILITIES,
        "code_challenge_methods_supported": ["S256"],
    }


def openid_configuration(request: Request) -> dict:
    return {
        **smart_configuration(request),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [keys.ALG],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"],
    }


def _json(body: dict) -> JSONResponse:
    return JSONResponse(body, headers=CORS)


@router.get("/fhir/.well-known/smart-configuration", include_in_schema=False)
async def get_smart_configuration(request: Request):
    return _json(smart_configuration(request))


@router.get("/fhir/.well-known/openid-configuration", include_in_schema=False)
@router.get("/.well-known/openid-configuration", include_in_schema=False)
async def get_openid_configuration(request: Request):
    return _json(openid_configuration(request))


@router.get("/auth/jwks", include_in_schema=False)
async def get_jwks(request: Request):
    ctx = request.app.state.ctx
    return _json(await run_in_threadpool(keys.jwks, ctx))
