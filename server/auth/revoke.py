"""Token revocation (RFC 7009).

A client revokes its own access or refresh tokens. Unknown, invalid or foreign tokens
get the same 200 (section 2.2: the answer must not reveal whether a token exists).
"""

from __future__ import annotations


from fastapi import APIRouter, Request
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from . import client_auth
from .errors import CORS, NO_STORE, OAuthError, error_response
from .models import RefreshToken, RevokedToken
from .store import digest, session
from .token import read_form
from .tokens import verify_access_token
from .urls import endpoint

router = APIRouter()


def revoke_token(ctx, client_id: str, token: str | None) -> None:
    if not token:
        return
    access = verify_access_token(ctx, token)
    if access is not None:
        if access.client_id != client_id:
            return
        try:
            with session(ctx, write=True) as s:
                s.add(RevokedToken(jti=access.jti, expires=access.expires))
        except IntegrityError:
            pass  # revoked twice: already done
        return
    with session(ctx, write=True) as s:
        s.execute(update(RefreshToken).where(RefreshToken.token_hash == digest(token),
                                             RefreshToken.client_id == client_id).values(revoked=True))


@router.post("/auth/revoke", include_in_schema=False)
async def revoke(request: Request):
    ctx = request.app.state.ctx
    try:
        form = await read_form(request)

        def work():
            client = client_auth.authenticate(ctx, form, endpoint(request, "token"))
            revoke_token(ctx, client.client_id, form.get("token"))

        await run_in_threadpool(work)
        return Response(status_code=200, headers={**NO_STORE, **CORS})
    except OAuthError as exc:
        return error_response(exc)


