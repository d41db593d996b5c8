"""Access tokens of an external OpenID provider (``PASSERELLE_OIDC_ISSUER``).

Hospitals run Keycloak or Azure AD: their JWT access tokens are accepted beside ours.
The provider's keys come from its discovery document (``/.well-known/openid-configuration``
-> ``jwks_uri``), cached per process and fetched again when a token names an unknown
``kid`` (key rotation), at most once a minute (server.auth.remote_keys). A token must be signed by one of those
keys with an asymmetric algorithm, come from that issuer, name our audience
(``PASSERELLE_OIDC_AUDIENCE``, default the base URL) and be unexpired. Scopes come from
``scope`` (space separated) or ``scp`` (Azure AD's list), the patient from ``patient``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .remote_keys import get_json, key_set
from .tokens import AccessToken

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
LEEWAY_SECONDS = 30


def _jwks_uri(issuer: str) -> str:
    document = get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    if document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise ValueError("the discovery document names another issuer")
    return document["jwks_uri"]


def _keys(issuer: str, kid: str | None) -> KeySet | None:
    # Keyed by the issuer: discovery is read again whenever the keys are.
    return key_set(issuer, kid, fetch=lambda _: KeySet.import_key_set(get_json(_jwks_uri(issuer))))


def verify_external_token(ctx, token: str) -> AccessToken | None:
    issuer = ctx.settings.oidc_issuer
    if not issuer or not token:
        return None
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        return None
    if header.get("alg") not in ALGORITHMS:
        return None
    keys = _keys(issuer, header.get("kid"))
    if keys is None:
        return None
    audience = ctx.settings.oidc_audience or ctx.settings.base_url
    try:
        claims = jwt.decode(token, keys, algorithms=ALGORITHMS).claims
        jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS, exp={"essential": True},
                              iss={"essential": True, "value": issuer},
                              aud={"essential": True, "value": audience}).validate(claims)
    except (JoseError, ValueError):
        return None
    granted = claims.get("scope") or claims.get("scp") or ""
    scopes = granted.split() if isinstance(granted, str) else [str(s) for s in granted]
    client_id = claims.get("client_id") or claims.get("azp") or claims.get("appid") or "external"
    return AccessToken(jti=str(claims.get("jti") or ""), client_id=str(client_id), scopes=tuple(scopes),
                       expires=datetime.fromtimestamp(claims["exp"], UTC).replace(tzinfo=None),
                       patient=claims.get("patient"), user=claims.get("fhirUser") or claims.get("sub"),
                       subject=claims.get("sub"))
