"""Access tokens and id_tokens: JWTs signed RS256 with the server's key.

Access tokens carry ``typ: at+jwt`` (RFC 9068) and id_tokens ``typ: JWT``, so that an
id_token, signed by the same key, is never accepted as an access token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from joserfc import jwt
from sqlalchemy import select

from . import keys
from .models import RevokedToken
from .store import epoch, now, session

AT_TYP = "at+jwt"


@dataclass(frozen=True)
class AccessToken:
    jti: str
    client_id: str
    scopes: tuple[str, ...]
    expires: datetime  # naive UTC
    patient: str | None = None
    user: str | None = None  # fhirUser reference (e.g. Practitioner/123), else the username
    subject: str | None = None


def issue_access_token(ctx, *, issuer: str, audience: str, client_id: str, scopes: list[str],
                       subject: str, patient: str | None = None, fhir_user: str | None = None) -> tuple[str, int]:
    lifetime = ctx.settings.auth_access_token_seconds
    issued = now()
    claims = {"iss": issuer, "aud": audience, "sub": subject, "client_id": client_id, "scope": " ".join(scopes),
              "iat": epoch(issued), "exp": epoch(issued + timedelta(seconds=lifetime)),
              "jti": secrets.token_urlsafe(24)}
    if patient:
        claims["patient"] = patient
    if fhir_user:
        claims["fhirUser"] = fhir_user
    key = keys.signing_key(ctx)
    return jwt.encode({"alg": keys.ALG, "kid": key.kid, "typ": AT_TYP}, claims, key, algorithms=[keys.ALG]), lifetime


def issue_id_token(ctx, *, issuer: str, client_id: str, subject: str, fhir_user: str | None,
                   nonce: str | None) -> str:
    issued = now()
    claims = {"iss": issuer, "aud": client_id, "sub": subject, "iat": epoch(issued),
              "exp": epoch(issued + timedelta(seconds=ctx.settings.auth_access_token_seconds))}
    if fhir_user:
        claims["fhirUser"] = fhir_user
    if nonce:
        claims["nonce"] = nonce
    key = keys.signing_key(ctx)
    return jwt.encode({"alg": keys.ALG, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[keys.ALG])


def _claims(ctx, token: str) -> dict | None:
    return keys.verify_own(ctx, token, AT_TYP, essential=("jti", "client_id"))


def verify_access_token(ctx, token: str) -> AccessToken | None:
    """The token's grant if it is one of ours, unexpired and not revoked; else None.

    The issuer is not compared (the URL it was issued under depends on the request):
    the signature by our own key is what proves we issued it.
    """
    claims = _claims(ctx, token or "")
    if claims is None:
        return None
    with session(ctx) as s:
        if s.scalar(select(RevokedToken.jti).where(RevokedToken.jti == claims["jti"])):
            return None
    return AccessToken(jti=claims["jti"], client_id=claims["client_id"],
                       scopes=tuple((claims.get("scope") or "").split()),
                       expires=datetime.fromtimestamp(claims["exp"], UTC).replace(tzinfo=None),
                       patient=claims.get("patient"), user=claims.get("fhirUser") or _user(claims),
                       subject=claims.get("sub"))


def _user(claims: dict) -> str | None:
    # Backend tokens have the client as subject: no user.
    return claims.get("sub") if claims.get("sub") != claims["client_id"] else None


def access_token_claims(ctx, token: str) -> dict | None:
    """The claims of a valid access token (introspection answers with them)."""
    return _claims(ctx, token) if verify_access_token(ctx, token) else None
