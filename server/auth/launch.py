"""EHR launch contexts (SMART App Launch 2.2, section 2.0.5).

The EHR asks for a launch id bound to a patient, an encounter and/or a user
(``passerelle launch --patient 123``, or ``POST /auth/launch`` with a user/ or system/
token that can read that patient), then opens the app with ``launch=<id>&iss=<fhir base>``. The id is
a JWT signed with the server's key (``typ: launch+jwt``): it needs no table, cannot be
forged or altered, and expires after ``LAUNCH_SECONDS``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Request
from joserfc import jwt
from starlette.concurrency import run_in_threadpool

from ..authz.access import Access
from . import keys
from .errors import OAuthError, error_response, json_response
from .store import epoch, now
from .token import read_form
from .tokens import verify_access_token

LAUNCH_TYP = "launch+jwt"
LAUNCH_SECONDS = 3600


@dataclass(frozen=True)
class LaunchContext:
    patient: str | None = None
    encounter: str | None = None
    user: str | None = None  # the username the EHR launched for: only they may sign in


def issue_launch(ctx, *, patient: str | None = None, encounter: str | None = None, user: str | None = None) -> str:
    if not (patient or encounter or user):
        raise ValueError("a launch is bound to a patient, an encounter or a user")
    issued = now()
    claims = {"iat": epoch(issued), "exp": epoch(issued + timedelta(seconds=LAUNCH_SECONDS)),
              "jti": secrets.token_urlsafe(12)}
    claims.update({k: v for k, v in (("patient", patient), ("encounter", encounter), ("user", user)) if v})
    key = keys.signing_key(ctx)
    return jwt.encode({"alg": keys.ALG, "kid": key.kid, "typ": LAUNCH_TYP}, claims, key, algorithms=[keys.ALG])


def read_launch(ctx, value: str) -> LaunchContext | None:
    """The context of a launch id this server issued and that has not expired, else None."""
    claims = keys.verify_own(ctx, value, LAUNCH_TYP)
    if claims is None:
        return None
    return LaunchContext(claims.get("patient"), claims.get("encounter"), claims.get("user"))


router = APIRouter()


@router.post("/auth/launch", include_in_schema=False)
async def new_launch(request: Request):
    """For the EHR: a launch id, for a backend or user token that can read what it binds
    (user/ or system/ read of Patient, and of Encounter when an encounter is given)."""
    ctx = request.app.state.ctx
    try:
        form = await read_form(request)
        header = request.headers.get("authorization", "")
        token = await run_in_threadpool(verify_access_token, ctx, header[7:].strip()) \
            if header[:7].lower() == "bearer " else None
        if token is None:
            raise OAuthError("invalid_token", "a Bearer access token is required", 401)
        access = Access.of_token(token)
        needed = ["Patient"] + (["Encounter"] if form.get("encounter") else [])
        if access.patient or not all(access.allows("r", t) for t in needed):
            raise OAuthError("insufficient_scope", f"needs user/ or system/ read of {', '.join(needed)}", 403)
        try:
            value = issue_launch(ctx, patient=form.get("patient"), encounter=form.get("encounter"),
                                 user=form.get("user"))
        except ValueError as exc:
            raise OAuthError("invalid_request", str(exc)) from None
        return json_response({"launch": value, "expires_in": LAUNCH_SECONDS})
    except OAuthError as exc:
        return error_response(exc)
