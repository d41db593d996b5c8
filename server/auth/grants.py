"""The three grants of the token endpoint: client_credentials (SMART Backend Services),
authorization_code (with PKCE) and refresh_token. Each returns the token response body."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import select

from . import scopes as scope_rules
from .errors import OAuthError
from .models import AuthorizationCode, OAuthClient, RefreshToken, User
from .registry import words
from .store import digest, now, session
from .tokens import issue_access_token, issue_id_token


@dataclass(frozen=True)
class Where:
    """What the token is for, from the request: issuer and audience (the FHIR base)."""
    issuer: str
    audience: str


def client_credentials(ctx, form, client: OAuthClient, where: Where) -> dict:
    if client.client_type != "confidential" or "backend" not in words(client.launch):
        raise OAuthError("unauthorized_client", "this client may not use client_credentials")
    requested = scope_rules.parse(form.get("scope"))
    if not requested:
        raise OAuthError("invalid_scope", "scope is required")
    granted = scope_rules.grant(requested, words(client.scopes), backend=True)
    if not granted:
        raise OAuthError("invalid_scope", "none of the requested scopes is allowed for this client")
    token, lifetime = issue_access_token(ctx, issuer=where.issuer, audience=where.audience,
                                        client_id=client.client_id, scopes=granted, subject=client.client_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime,
            "scope": scope_rules.render(granted)}


def authorization_code(ctx, form, client: OAuthClient, where: Where) -> dict:
    code, verifier, redirect_uri = form.get("code"), form.get("code_verifier"), form.get("redirect_uri")
    if not code or not redirect_uri:
        raise OAuthError("invalid_request", "code and redirect_uri are required")
    if not verifier:
        raise OAuthError("invalid_request", "code_verifier is required (PKCE)")
    with session(ctx, write=True) as s:
        row = s.get(AuthorizationCode, digest(code), with_for_update=True)
        if row is None or row.used or row.expires < now() or row.client_id != client.client_id:
            raise OAuthError("invalid_grant", "the authorization code is invalid, expired or already used")
        row.used = True  # single use, even when the rest of this request fails
    if row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request's")
    if not 43 <= len(verifier) <= 128 or create_s256_code_challenge(verifier) != row.code_challenge:
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    with session(ctx) as s:
        user = s.get(User, row.username)
    if user is None:
        raise OAuthError("invalid_grant", "the user who authorized this code no longer exists")
    granted = row.scope.split()
    body = _user_tokens(ctx, client, where, granted, user, row.patient, row.encounter)
    if "openid" in granted:
        body["id_token"] = issue_id_token(ctx, issuer=where.issuer, client_id=client.client_id,
                                          subject=user.username,
                                          fhir_user=_absolute(where, user.fhir_user) if "fhirUser" in granted else None,
                                          nonce=row.nonce)
    if "offline_access" in granted or "online_access" in granted:
        body["refresh_token"] = _new_refresh_token(ctx, client, user, granted, row.patient, row.encounter)
    return body


def refresh_token(ctx, form, client: OAuthClient, where: Where) -> dict:
    presented = form.get("refresh_token")
    if not presented:
        raise OAuthError("invalid_request", "refresh_token is required")
    with session(ctx) as s:
        row = s.get(RefreshToken, digest(presented))
        user = s.get(User, row.username) if row and row.username else None
    if row is None or row.revoked or row.expires < now() or row.client_id != client.client_id or user is None:
        raise OAuthError("invalid_grant", "the refresh token is invalid, expired or revoked")
    original = row.scope.split()
    requested = scope_rules.parse(form.get("scope")) or original
    # A refresh can narrow the grant, never widen it.
    if not scope_rules.narrower(requested, original):
        raise OAuthError("invalid_scope", "a refresh may only narrow the scopes originally granted")
    body = _user_tokens(ctx, client, where, requested, user, row.patient, row.encounter)
    body["refresh_token"] = presented  # not rotated: it keeps the original grant's expiry and scopes
    return body


def _user_tokens(ctx, client, where, granted, user, patient, encounter=None) -> dict:
    token, lifetime = issue_access_token(ctx, issuer=where.issuer, audience=where.audience,
                                        client_id=client.client_id, scopes=granted, subject=user.username,
                                        patient=patient, fhir_user=_absolute(where, user.fhir_user))
    body = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime,
            "scope": scope_rules.render(granted)}
    if patient:
        body["patient"] = patient
    if encounter:
        body["encounter"] = encounter
        body["fhirContext"] = [{"reference": f"Encounter/{encounter}"}]  # SMART 2.2 shape
    return body


def _absolute(where: Where, reference: str | None) -> str | None:
    # SMART: fhirUser is an absolute URL of a FHIR resource the token can read.
    if not reference or "://" in reference:
        return reference
    return f"{where.audience}/{reference}"


def _new_refresh_token(ctx, client, user, granted, patient, encounter=None) -> str:
    token = secrets.token_urlsafe(32)
    with session(ctx, write=True) as s:
        s.add(RefreshToken(token_hash=digest(token), client_id=client.client_id, username=user.username,
                           scope=" ".join(granted), patient=patient, encounter=encounter,
                           expires=now() + timedelta(days=ctx.settings.auth_refresh_token_days)))
    return token


def find_refresh_token(ctx, token: str) -> RefreshToken | None:
    with session(ctx) as s:
        return s.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))
