"""Public keys published at a URL (a JWKS), cached per process.

Used for backend clients registered with a ``jwks_uri`` and for an external OpenID
provider's keys. A set is fetched again when a token names a ``kid`` it lacks (key
rotation), at most once every ``REFETCH_SECONDS`` per URL, so that unknown kids cannot
make us hammer the publisher. A failed fetch keeps the last good set.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger("passerelle.auth")

REFETCH_SECONDS = 60
_cache: dict[str, tuple[KeySet, float]] = {}
_lock = threading.Lock()


def get_json(url: str) -> dict:
    with httpx.Client(timeout=10, follow_redirects=False) as http:
        response = http.get(url)
        response.raise_for_status()
        return response.json()


def key_set(url: str, kid: str | None, fetch=lambda url: KeySet.import_key_set(get_json(url))) -> KeySet | None:
    """The key set at ``url``, holding ``kid`` if the publisher has it."""
    with _lock:
        cached = _cache.get(url)
        known = cached is not None and any(k.kid == kid for k in cached[0].keys)
        if known or (cached is not None and time.monotonic() - cached[1] < REFETCH_SECONDS):
            return cached[0]
        try:
            keys = fetch(url)
        except (httpx.HTTPError, ValueError, KeyError, JoseError) as exc:
            log.warning("JWKS at %s unavailable (%s)", url, type(exc).__name__)
            return cached[0] if cached else None
        _cache[url] = (keys, time.monotonic())
        return keys


def expire(url: str | None = None) -> None:
    """Forget cached sets (all, or one URL's), as after the refetch interval."""
    with _lock:
        for key in [url] if url else list(_cache):
            _cache.pop(key, None)
