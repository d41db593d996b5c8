"""Token introspection (RFC 7662).

The caller authenticates as a client (private_key_jwt) or presents a valid access token
as Bearer (a resource server holding one); others get 401. Any token that is not an
active one of ours gets exactly ``{"active": false}``: nothing tells why.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from . import client_auth
from .errors import OAuthError, error_response, invalid_client, json_response
from .grants import find_refresh_token
from .store import epoch, now
from .token import read_form
from .tokens import access_token_claims, verify_access_token
from .urls import endpoint

router = APIRouter()

INACTIVE = {"active": False}
CLAIMS = ("scope", "client_id", "exp", "iat", "sub", "aud", "iss", "patient", "fhirUser", "jti")


def authorize_caller(ctx, request: Request, form: dict) -> None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and verify_access_token(ctx, auth[7:].strip()):
        return
    if "client_assertion" in form:
        client_auth.authenticate(ctx, form, endpoint(request, "token"))
        return
    raise invalid_client("introspection needs client authentication or a Bearer token")


def introspect_token(ctx, token: str | None) -> dict:
    if not token:
        return INACTIVE
    claims = access_token_claims(ctx, token)
    if claims is not None:
        return {"active": True, "token_type": "Bearer", **{k: claims[k] for k in CLAIMS if k in claims}}
    refresh = find_refresh_token(ctx, token)
    if refresh is not None and not refresh.revoked and refresh.expires > now():
        body = {"active": True, "token_type": "refresh_token", "scope": refresh.scope,
                "client_id": refresh.client_id, "exp": epoch(refresh.expires)}
        if refresh.username:
            body["sub"] = refresh.username
        if refresh.patient:
            body["patient"] = refresh.patient
        return body
    return INACTIVE


@router.post("/auth/introspect", include_in_schema=False)
async def introspect(request: Request):
    ctx = request.app.state.ctx
    try:
        form = await read_form(request)

        def work():
            authorize_caller(ctx, request, form)
            return introspect_token(ctx, form.get("token"))

        return json_response(await run_in_threadpool(work))
    except OAuthError as exc:
        return error_response(exc)
