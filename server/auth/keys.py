"""The server's signing key: RS256, generated on first use and kept in the database.

Every worker signs with the same key: the oldest row wins, so two workers that both
generated one at first start converge on the same key, and both keys stay published.
Keys are cached per engine; an unknown ``kid`` reloads them (another worker's new key).
"""

from __future__ import annotations

import threading
import weakref

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from .models import SigningKey
from .store import now, session

ALG = "RS256"
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _load(ctx) -> list[RSAKey]:
    with session(ctx) as s:
        rows = s.scalars(select(SigningKey).where(SigningKey.alg == ALG)
                         .order_by(SigningKey.created, SigningKey.kid)).all()
    if not rows:
        key = RSAKey.generate_key(2048, private=True)
        key.ensure_kid()  # RFC 7638 thumbprint
        with session(ctx, write=True) as s:
            s.add(SigningKey(kid=key.kid, alg=ALG, private_pem=key.as_pem(private=True).decode(), created=now()))
        return _load(ctx)
    keys = []
    for row in rows:
        key = RSAKey.import_key(row.private_pem, {"kid": row.kid, "alg": ALG, "use": "sig"})
        keys.append(key)
    return keys


def server_keys(ctx, *, reload: bool = False) -> list[RSAKey]:
    engine = ctx.store.engine
    with _lock:
        keys = _cache.get(engine)
        if keys is None or reload:
            loaded = _load(ctx)
            # Keep keys already handed out (tokens signed with them stay verifiable).
            known = {k.kid for k in loaded}
            keys = loaded + [k for k in (keys or []) if k.kid not in known]
            _cache[engine] = keys
        return keys


def signing_key(ctx) -> RSAKey:
    return server_keys(ctx)[0]


def find_key(ctx, kid: str | None) -> RSAKey | None:
    for reload in (False, True):
        for key in server_keys(ctx, reload=reload):
            if key.kid == kid:
                return key
    return None


def jwks(ctx) -> dict:
    return KeySet(server_keys(ctx)).as_dict(private=False)


def forget(ctx) -> None:
    """Drop this process's cache, as a freshly started worker would have none."""
    with _lock:
        _cache.pop(ctx.store.engine, None)


def verify_own(ctx, value: str, typ: str, *, essential: tuple[str, ...] = ()) -> dict | None:
    """The claims of a JWT of type ``typ`` that this server signed and that has not expired
    (``essential`` claims present too); None for anything else, whatever is wrong with it."""
    try:
        header = jws.extract_compact(value.encode()).headers()
        key = find_key(ctx, header.get("kid")) if header.get("typ") == typ else None
        if key is None:
            return None
        claims = jwt.decode(value, key, algorithms=[ALG]).claims
        jwt.JWTClaimsRegistry(exp={"essential": True}, **{c: {"essential": True} for c in essential}).validate(claims)
    except (JoseError, ValueError, UnicodeError):
        return None
    return claims
