"""Trusting CDS clients (CDS Hooks 2.0): the EHR's signed JWT, checked against its keys.

The EHR sends ``Authorization: Bearer <JWT>`` signed ES384 or RS384 with a key of its
JWKS; ``iss`` names the EHR, ``aud`` the CDS service URL called, ``exp`` at most five
minutes ahead, ``jti`` used once (remembered in the database until it expires, so a
replay fails on every worker).

Trusted clients are a JSON file (``PASSERELLE_CDS_HOOKS_CLIENTS``)::

    {"clients": [{"iss": "https://ehr.example.org", "jwks": {"keys": [...]}},
                 {"iss": "https://other.example.org", "jwks_file": "other-jwks.json"}]}

(``jwks_file`` relative to the file). Keys are not fetched from ``jku`` URLs: no network
call decides who is trusted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError

from server.auth.models import UsedJti
from server.auth.store import now, session

from .request import HookError

ALGORITHMS = ["ES384", "RS384"]
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 30
REALM = 'Bearer realm="cds-services"'


def unauthorized(message: str) -> HookError:
    return HookError(message, 401, {"WWW-Authenticate": REALM})


@dataclass(frozen=True)
class TrustedClients:
    keys: dict[str, KeySet]  # iss -> its keys

    @classmethod
    def load(cls, path: str) -> TrustedClients:
        file = Path(path)
        try:
            data = json.loads(file.read_text())
            keys = {}
            for client in data["clients"]:
                jwks = client.get("jwks")
                if jwks is None:
                    jwks = json.loads((file.parent / client["jwks_file"]).read_text())
                keys[client["iss"]] = KeySet.import_key_set(jwks)
        except (OSError, ValueError, KeyError, TypeError, JoseError) as exc:
            raise ValueError(f"{path}: not a usable CDS clients file ({exc})") from exc
        return cls(keys)

    def verify(self, ctx, authorization: str | None, audiences: set[str]) -> tuple[str, str | None]:
        """The verified issuer and its ``sub``; a 401 HookError otherwise."""
        if not authorization or authorization[:7].lower() != "bearer " or not authorization[7:].strip():
            raise unauthorized("A CDS client JWT is required (Authorization: Bearer ...)")
        token = authorization[7:].strip()
        try:
            compact = jws.extract_compact(token.encode())
            header, unverified = compact.headers(), json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError):
            raise unauthorized("The bearer token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise unauthorized(f"The JWT must be signed with one of {ALGORITHMS}")
        issuer = unverified.get("iss") if isinstance(unverified, dict) else None
        key_set = self.keys.get(issuer) if isinstance(issuer, str) else None
        if key_set is None:
            raise unauthorized("The JWT issuer is not a trusted CDS client")
        try:
            claims = jwt.decode(token, key_set, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError):
            raise unauthorized("The JWT signature does not verify with the client's keys") from None
        _check(claims, audiences)
        _once(ctx, issuer, claims)
        sub = claims.get("sub")
        return issuer, sub if isinstance(sub, str) else None


def _check(claims: dict, audiences: set[str]) -> None:
    aud = claims.get("aud")
    given = set(aud) if isinstance(aud, list) else {aud}
    if not given & audiences:
        raise unauthorized("The JWT aud is not this CDS service's URL")
    current = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not _number(exp) or not _number(iat):
        raise unauthorized("The JWT needs exp and iat")
    if exp <= current - LEEWAY_SECONDS:
        raise unauthorized("The JWT has expired")
    if exp > current + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise unauthorized("The JWT exp is more than five minutes ahead")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise unauthorized("The JWT needs a jti")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _once(ctx, issuer: str, claims: dict) -> None:
    expires = datetime.fromtimestamp(claims["exp"] + LEEWAY_SECONDS, UTC).replace(tzinfo=None)
    try:
        with session(ctx, write=True) as s:
            s.query(UsedJti).filter(UsedJti.expires < now()).delete()
            s.add(UsedJti(client_id=f"cds:{issuer}"[:128], jti=claims["jti"][:255], expires=expires))
    except IntegrityError:
        raise unauthorized("The JWT jti was already used") from None
