"""Client authentication at the token, introspection and revocation endpoints.

Confidential clients: ``private_key_jwt`` (RFC 7523, SMART Backend Services), signed RS384
or ES384 with a key of the client's JWKS chosen by ``kid`` (registered inline, or
fetched from its ``jwks_uri`` and cached: server.auth.remote_keys). joserfc (like
authlib's JWT layer) only accepts its "recommended" algorithms (HS256, RS256, ES256)
unless told otherwise, so the allowed algorithms are listed explicitly; every claim
check stays. Public clients identify themselves by ``client_id`` (PKCE protects them).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError

from . import remote_keys
from .errors import OAuthError, invalid_client
from .models import OAuthClient, UsedJti
from .registry import get_client
from .store import now, session

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ["RS384", "ES384"]
MAX_ASSERTION_SECONDS = 300  # SMART: exp no more than five minutes in the future
LEEWAY_SECONDS = 30  # clock skew tolerated on exp/nbf/iat


def authenticate(ctx, form, token_url: str) -> OAuthClient:
    assertion = form.get("client_assertion")
    if assertion is not None or form.get("client_assertion_type") is not None:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise invalid_client(f"client_assertion_type must be {ASSERTION_TYPE}")
        return _private_key_jwt(ctx, assertion or "", form.get("client_id"), token_url)
    client = get_client(ctx, form.get("client_id"))
    if client is None:
        raise invalid_client("unknown client")
    if client.client_type != "public":
        raise invalid_client("this client authenticates with private_key_jwt")
    return client


def _private_key_jwt(ctx, assertion: str, client_id: str | None, token_url: str) -> OAuthClient:
    try:
        header = jws.extract_compact(assertion.encode()).headers()
        unverified = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, UnicodeError):
        raise invalid_client("client_assertion is not a JWT") from None
    if header.get("alg") not in ASSERTION_ALGS:
        raise invalid_client(f"client_assertion must be signed with one of {ASSERTION_ALGS}")
    issuer = unverified.get("iss") if isinstance(unverified, dict) else None
    if client_id is not None and client_id != issuer:
        raise invalid_client("client_id does not match the assertion's iss")
    client = get_client(ctx, issuer if isinstance(issuer, str) else None)
    if client is None or client.client_type != "confidential":
        raise invalid_client("unknown client")
    key = _client_key(client, header.get("kid"))
    try:
        claims = jwt.decode(assertion, key, algorithms=ASSERTION_ALGS).claims
    except (JoseError, ValueError):
        raise invalid_client("client_assertion signature does not verify") from None
    _check_claims(claims, client.client_id, token_url)
    _record_jti(ctx, client.client_id, claims)
    return client


def _client_key(client: OAuthClient, kid):
    if not kid:
        raise invalid_client("client_assertion header has no kid")
    if client.jwks:
        try:
            key_set = KeySet.import_key_set(json.loads(client.jwks))
        except (JoseError, ValueError):
            raise invalid_client("the client's registered JWKS is unusable") from None
    elif client.jwks_uri:
        key_set = remote_keys.key_set(client.jwks_uri, kid)
        if key_set is None:
            raise invalid_client("the client's jwks_uri could not be fetched")
    else:
        raise invalid_client("the client has no registered keys")
    for key in key_set.keys:
        if key.kid == kid:
            return key
    raise invalid_client(f"no key {kid!r} in the client's JWKS")


def _check_claims(claims: dict, client_id: str, token_url: str) -> None:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise invalid_client("iss and sub must both be the client_id")
    aud = claims.get("aud")
    if not (aud == token_url or (isinstance(aud, list) and token_url in aud)):
        raise invalid_client(f"aud must be the token endpoint {token_url}")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise invalid_client("jti is required")
    exp = claims.get("exp")
    current = time.time()
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise invalid_client("exp is required")
    if exp <= current - LEEWAY_SECONDS:
        raise invalid_client("client_assertion expired")
    if exp > current + MAX_ASSERTION_SECONDS + LEEWAY_SECONDS:
        raise invalid_client("client_assertion exp is more than 5 minutes ahead")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > current + LEEWAY_SECONDS:
        raise invalid_client("client_assertion not yet valid")


def _record_jti(ctx, client_id: str, claims: dict) -> None:
    """A jti is remembered until its assertion expires: the primary key makes a replay,
    even a concurrent one on another worker, fail."""
    expires = datetime.fromtimestamp(claims["exp"] + LEEWAY_SECONDS, UTC).replace(tzinfo=None)
    try:
        with session(ctx, write=True) as s:
            s.query(UsedJti).filter(UsedJti.expires < now()).delete()
            s.add(UsedJti(client_id=client_id, jti=claims["jti"], expires=expires))
    except IntegrityError:
        raise invalid_client("client_assertion jti already used") from None


__all__ = ["authenticate", "OAuthError", "ASSERTION_TYPE"]
