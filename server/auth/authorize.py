"""The authorization endpoint (RFC 6749 section 4.1, SMART App Launch 2.2 standalone launch).

GET or POST with the request parameters shows one server-rendered page: login, the
scopes asked for, a patient field when ``launch/patient`` is asked for, and approve /
deny. Its POST carries the parameters again (hidden fields), so there is no session
state: each authorization needs the password, which also makes the form useless to a
cross-site request forger. PKCE with S256 is required of every client.

EHR launch: a ``launch`` id (server.auth.launch) fixes the patient and encounter, and
the user when the EHR named one. Standalone ``launch/encounter``: once signed in with a
patient, a second page picks one of the patient's encounters (server.auth.picker).
"""

from __future__ import annotations

import html
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse

from ..storage.models import Resource
from . import picker
from . import scopes as scope_rules
from .launch import LaunchContext, read_launch
from .models import AuthorizationCode
from .passwords import verify_password
from .registry import get_client, get_user, words
from .store import digest, now, session
from .urls import fhir_base

router = APIRouter()

PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "aud", "code_challenge",
          "code_challenge_method", "nonce", "launch")
# The page must not be framed (clickjacking of the approve button) nor cached.
PAGE_HEADERS = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'; default-src 'self'",
                "Cache-Control": "no-store"}


class Refusal(Exception):
    """An error told to the user, not to the redirect_uri (which cannot be trusted)."""


class Redirected(Exception):
    def __init__(self, error: str, description: str):
        self.error, self.description = error, description


def _check(request: Request, p: dict):
    client = get_client(request.app.state.ctx, p.get("client_id"))
    if client is None:
        raise Refusal("Unknown client_id.")
    if not p.get("redirect_uri") or p["redirect_uri"] not in words(client.redirect_uris):
        raise Refusal("redirect_uri is not registered for this client.")
    if p.get("response_type") != "code":
        raise Redirected("unsupported_response_type", "response_type must be code")
    if not p.get("code_challenge") or p.get("code_challenge_method") != "S256":
        raise Redirected("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
    if p.get("aud", "").rstrip("/") != fhir_base(request):
        raise Redirected("invalid_request", f"aud must be this FHIR server: {fhir_base(request)}")
    if "standalone" not in words(client.launch) and not p.get("launch"):
        raise Redirected("unauthorized_client", "this client may not do a standalone launch")
    granted = scope_rules.grant(scope_rules.parse(p.get("scope")), words(client.scopes), backend=False)
    if not granted:
        raise Redirected("invalid_scope", "none of the requested scopes is allowed for this client")
    launch = None
    if p.get("launch"):
        if "ehr" not in words(client.launch):
            raise Redirected("unauthorized_client", "this client may not do an EHR launch")
        launch = read_launch(request.app.state.ctx, p["launch"])
        if launch is None:
            raise Redirected("invalid_request", "the launch id is unknown or expired")
        if "launch" not in granted:
            raise Redirected("invalid_scope", "an EHR launch needs the launch scope")
    return client, granted, launch


def _redirect(p: dict, **query) -> RedirectResponse:
    if p.get("state") is not None:
        query["state"] = p["state"]
    sep = "&" if "?" in p["redirect_uri"] else "?"
    return RedirectResponse(f"{p['redirect_uri']}{sep}{urlencode(query)}", status_code=303)


def _page(p: dict, client, granted: list[str], error: str | None = None, status: int = 200, *,
          launch: LaunchContext | None = None, step: str | None = None) -> HTMLResponse:
    """The sign-in page; ``step`` (the encounter picker's fields) replaces the sign-in."""
    e = html.escape
    hidden = "".join(f'<input type="hidden" name="{k}" value="{e(p[k])}">' for k in PARAMS if p.get(k) is not None)
    items = "".join(f"<li><code>{e(s)}</code></li>" for s in granted)
    patient = ('<p><label>Patient id <input name="patient" required></label></p>'
               if "launch/patient" in granted and not (launch and launch.patient) else "")
    login = ('<p><label>Username <input name="username" autocomplete="username" required></label></p>'
             '<p><label>Password <input name="password" type="password" autocomplete="current-password" '
             'required></label></p>')
    fields = step if step is not None else login + patient
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Passerelle sign-in</title></head>
<body><h1>Sign in to Passerelle</h1>
<p><strong>{e(client.name or client.client_id)}</strong> asks for:</p><ul>{items}</ul>
{f'<p role="alert">{e(error)}</p>' if error else ''}
<form method="post" action="authorize">{hidden}
{fields}<p><button name="decision" value="approve">Approve</button>
<button name="decision" value="deny" formnovalidate>Deny</button></p></form></body></html>"""
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _refusal(message: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>Authorization error</title><h1>Authorization error</h1>"
                        f"<p>{html.escape(message)}</p>", status_code=400, headers=PAGE_HEADERS)


def _patient_exists(ctx, patient_id: str) -> bool:
    with session(ctx) as s:
        return s.scalar(select(Resource.pid).where(Resource.resource_type == "Patient",
                                                   Resource.fhir_id == patient_id,
                                                   Resource.deleted.is_(False))) is not None


def _decide(request: Request, p: dict, form: dict):
    ctx = request.app.state.ctx
    client, granted, launch = _check(request, p)
    if form.get("decision") == "deny":
        return _redirect(p, error="access_denied", error_description="the user denied the request")
    if "ticket" in form:  # the encounter picker, after a successful sign-in
        return _picked(ctx, p, client, granted, form)
    if "username" not in form:
        return _page(p, client, granted, launch=launch)
    user = get_user(ctx, form.get("username"))
    if not verify_password(user.password_hash if user else None, form.get("password") or ""):
        return _page(p, client, granted, "Wrong username or password.", status=401, launch=launch)
    if launch and launch.user and launch.user != user.username:
        return _page(p, client, granted, "This launch is for another user.", status=403, launch=launch)
    patient, encounter = (launch.patient, launch.encounter) if launch else (None, None)
    if "launch/patient" in granted and not launch:
        patient = (form.get("patient") or "").strip()
        if not patient or not _patient_exists(ctx, patient):
            return _page(p, client, granted, "No such patient.", status=400)
    if "launch/encounter" in granted and not launch:
        if not patient:
            return _page(p, client, granted, "Choosing an encounter needs launch/patient too.", status=400)
        choices = picker.encounters(ctx, patient)
        if not choices:
            return _page(p, client, granted, "This patient has no encounter to choose.", status=400)
        ticket = picker.issue_ticket(ctx, username=user.username, client_id=client.client_id, patient=patient,
                                     challenge=p["code_challenge"])
        return _page(p, client, granted, step=picker.picker_fields(choices, ticket))
    return _issue_code(ctx, p, client, granted, user.username, patient, encounter)


def _picked(ctx, p: dict, client, granted: list[str], form: dict):
    ticket = picker.read_ticket(ctx, form["ticket"], client.client_id, p["code_challenge"])
    if ticket is None:
        return _page(p, client, granted, "The sign-in expired: sign in again.", status=401)
    encounter = (form.get("encounter") or "").strip()
    if encounter not in {i for i, _ in picker.encounters(ctx, ticket["patient"])}:
        return _page(p, client, granted, "No such encounter for this patient.", status=400)
    return _issue_code(ctx, p, client, granted, ticket["sub"], ticket["patient"], encounter)


def _issue_code(ctx, p: dict, client, granted: list[str], username: str, patient: str | None,
                encounter: str | None):
    code = secrets.token_urlsafe(32)
    with session(ctx, write=True) as s:
        s.add(AuthorizationCode(code_hash=digest(code), client_id=client.client_id, username=username,
                                redirect_uri=p["redirect_uri"], scope=" ".join(granted),
                                code_challenge=p["code_challenge"], nonce=p.get("nonce"), patient=patient,
                                encounter=encounter,
                                expires=now() + timedelta(seconds=ctx.settings.auth_code_seconds), used=False))
    return _redirect(p, code=code)


async def _handle(request: Request, values: dict, form: dict):
    p = {k: values[k] for k in PARAMS if k in values}
    try:
        return await run_in_threadpool(_decide, request, p, form)
    except Refusal as exc:
        return _refusal(str(exc))
    except Redirected as exc:
        return _redirect(p, error=exc.error, error_description=exc.description)


@router.get("/auth/authorize", include_in_schema=False)
async def authorize_get(request: Request):
    return await _handle(request, dict(request.query_params), {})


@router.post("/auth/authorize", include_in_schema=False)
async def authorize_post(request: Request):
    form = dict((await request.form()).items())
    # The login form posts the request parameters back; an app may also POST them directly.
    return await _handle(request, form, {k: form[k] for k in ("decision", "username", "password", "patient",
                                                               "ticket", "encounter") if k in form})
