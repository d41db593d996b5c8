"""The token endpoint (RFC 6749 section 3.2): client authentication, then the grant."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from . import client_auth, grants
from .errors import CORS, OAuthError, error_response, json_response
from .urls import endpoint, fhir_base, issuer

router = APIRouter()

GRANTS = {
    "client_credentials": grants.client_credentials,
    "authorization_code": grants.authorization_code,
    "refresh_token": grants.refresh_token,
}


async def read_form(request: Request) -> dict:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    return dict((await request.form()).items())


@router.post("/auth/token", include_in_schema=False)
async def token(request: Request):
    ctx = request.app.state.ctx
    try:
        form = await read_form(request)
        grant = GRANTS.get(form.get("grant_type") or "")
        if grant is None:
            raise OAuthError("unsupported_grant_type", f"grant_type {form.get('grant_type')!r} is not supported")
        where = grants.Where(issuer=issuer(request), audience=fhir_base(request))

        def work():
            client = client_auth.authenticate(ctx, form, endpoint(request, "token"))
            return grant(ctx, form, client, where)

        return json_response(await run_in_threadpool(work))
    except OAuthError as exc:
        return error_response(exc)


@router.options("/auth/token", include_in_schema=False)
@router.options("/auth/introspect", include_in_schema=False)
@router.options("/auth/revoke", include_in_schema=False)
@router.options("/fhir/.well-known/smart-configuration", include_in_schema=False)
@router.options("/fhir/.well-known/openid-configuration", include_in_schema=False)
@router.options("/.well-known/openid-configuration", include_in_schema=False)
async def preflight():
    """CORS preflight: browser apps may call these endpoints from any origin."""
    return Response(status_code=204, headers=CORS)
