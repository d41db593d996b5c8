"""The encounter picker of a standalone launch asking for ``launch/encounter``.

The picker is a second page, after the sign-in has chosen the patient. No password is
carried to it: the first page's success is a short-lived signed ticket (JWT, ``typ:
consent+jwt``, bound to the client and the patient) posted back with the choice.
"""

from __future__ import annotations

import html
from datetime import timedelta

from joserfc import jwt

from ..search.service import find_ids
from . import keys
from .store import epoch, now

TICKET_TYP = "consent+jwt"
TICKET_SECONDS = 300
MAX_ENCOUNTERS = 50


def issue_ticket(ctx, *, username: str, client_id: str, patient: str, challenge: str) -> str:
    claims = {"sub": username, "client_id": client_id, "patient": patient, "challenge": challenge,
              "exp": epoch(now() + timedelta(seconds=TICKET_SECONDS))}
    key = keys.signing_key(ctx)
    return jwt.encode({"alg": keys.ALG, "kid": key.kid, "typ": TICKET_TYP}, claims, key, algorithms=[keys.ALG])


def read_ticket(ctx, value: str, client_id: str, challenge: str) -> dict | None:
    claims = keys.verify_own(ctx, value, TICKET_TYP)
    if claims is None:
        return None
    # Bound to this authorization request: the client and its PKCE challenge.
    return claims if (claims.get("client_id"), claims.get("challenge")) == (client_id, challenge) else None


def encounters(ctx, patient: str) -> list[tuple[str, str]]:
    """(id, label) of the patient's encounters, newest first by creation."""
    with ctx.store.read() as uow:
        found = find_ids(uow, "Encounter", [("patient", f"Patient/{patient}"), ("_sort", "-_lastUpdated")],
                         limit=MAX_ENCOUNTERS)
        stored = uow.read_many([pid for _, pid in found])
    choices = []
    for item in stored:
        enc = item.resource()
        kind = (enc.get("class") or {}).get("code", "")
        start = (enc.get("period") or {}).get("start", "")
        choices.append((item.id, " ".join(x for x in (item.id, kind, start, enc.get("status", "")) if x)))
    return choices


def picker_fields(choices: list[tuple[str, str]], ticket: str) -> str:
    e = html.escape
    options = "".join(f'<option value="{e(i)}">{e(label)}</option>' for i, label in choices)
    return (f'<input type="hidden" name="ticket" value="{e(ticket)}">'
            f'<p><label>Encounter <select name="encounter" required>{options}</select></label></p>')
