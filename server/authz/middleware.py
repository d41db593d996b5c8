"""The HTTP edge of enforcement (pure ASGI, so the request's Access reaches the handlers).

For every request: a rate limit per client (429 + Retry-After), the body size limit
(413), security headers, CORS for browser apps. For the FHIR API (``/fhir`` but ``/metadata`` and ``.well-known``): a
Bearer access token, verified (signature, expiry, revocation); none or a bad one is a
401 with ``WWW-Authenticate``; a good one becomes the request's ``Access``. Every FHIR
request is audited (server.audit) before its answer leaves.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from .. import jsonio
from ..auth.external import verify_external_token
from ..auth.tokens import verify_access_token
from ..errors import FhirError, NotAuthenticated, PayloadTooLarge
from .access import ANONYMOUS, INTERNAL, Access, set_current
from .ratelimit import RateLimiter

log = logging.getLogger("passerelle.security")

PUBLIC_PATHS = ("/fhir/metadata",)
PUBLIC_PREFIXES = ("/fhir/.well-known/",)
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY")]
CORS_HEADERS = [(b"access-control-allow-origin", b"*"),
                (b"access-control-expose-headers", b"Location, ETag, Content-Location, Last-Modified, Retry-After")]
PREFLIGHT = {"Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "600",
             "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
             "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept, Prefer, If-Match, "
                                             "If-None-Match, If-None-Exist, If-Modified-Since"}
MEDIA_TYPE = b"application/fhir+json; charset=utf-8"


class TooManyRequests(FhirError):
    status, code = 429, "throttled"


def enforced(path: str) -> bool:
    return (path == "/fhir" or path.startswith("/fhir/")) and path not in PUBLIC_PATHS \
        and not path.startswith(PUBLIC_PREFIXES)


class Enforcement:
    def __init__(self, app, ctx, audit=None):
        self.app = app
        self.ctx = ctx
        self.audit = audit  # callable(scope, status, headers, access) or None
        self.limiter = RateLimiter(ctx.settings.rate_limit_per_minute)
        self.enabled = ctx.settings.auth != "disabled"
        self.max_body = ctx.settings.max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, fhir = scope["path"], scope["path"].startswith("/fhir")
        if scope["method"] == "OPTIONS" and fhir:
            await _respond(send, 204, b"", PREFLIGHT)
            return
        access, failure = INTERNAL, None
        if self.enabled and enforced(path):
            access, failure = await self._authenticate(scope)
        key = access.client_id or f"addr:{(scope.get('client') or ('?',))[0]}"
        wait = self.limiter.retry_after(key)
        if wait is not None:
            failure = TooManyRequests(f"Too many requests: retry in {wait} s", headers={"Retry-After": str(wait)})
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            failure = failure or PayloadTooLarge(f"The body ({declared} bytes) exceeds the limit of "
                                                 f"{self.max_body} bytes")
        set_current(access)
        scope["passerelle.access"] = access
        audited = self.audit if self.enabled and enforced(path) else None
        send = _decorated(send, fhir, audited, scope, access)
        if failure is not None:
            await _respond(send, failure.status, jsonio.dumps(failure.outcome()), failure.headers,
                           media_type=MEDIA_TYPE)
            return
        await self.app(scope, _bounded(receive, self.max_body), send)

    async def _authenticate(self, scope) -> tuple[Access, FhirError | None]:
        header = Headers(scope=scope).get("authorization", "")
        realm = 'Bearer realm="passerelle"'
        if header[:7].lower() != "bearer " or not header[7:].strip():
            return ANONYMOUS, NotAuthenticated(
                "An access token is required (Authorization: Bearer ...)", headers={"WWW-Authenticate": realm})
        value = header[7:].strip()
        token = await run_in_threadpool(lambda: verify_access_token(self.ctx, value)
                                        or verify_external_token(self.ctx, value))
        if token is None:
            return ANONYMOUS, NotAuthenticated(
                "The access token is invalid, expired or revoked",
                headers={"WWW-Authenticate": f'{realm}, error="invalid_token", '
                                             f'error_description="invalid, expired or revoked"'})
        return Access.of_token(token), None


def _bounded(receive, limit: int):
    """Every body, form posts to the auth endpoints included, stops at the size limit
    (a chunked body declares no length): the handler gets a 413 OperationOutcome."""
    size = 0

    async def wrapped():
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise PayloadTooLarge(f"The body exceeds the limit of {limit} bytes")
        return message

    return wrapped


def _decorated(send, fhir: bool, audit, scope, access):
    """Adds security and CORS headers; audits before the answer leaves."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            extra = SECURITY_HEADERS + (CORS_HEADERS if fhir else [])
            headers += [(k, v) for k, v in extra if k not in present]
            if audit is not None:
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))  # patient data: never in shared caches
                await run_in_threadpool(audit, scope, message["status"], Headers(raw=headers), access)
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _respond(send, status: int, body: bytes, headers: dict, media_type: bytes | None = None):
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if media_type:
        raw.append((b"content-type", media_type))
    if body or status != 204:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def warn_if_disabled(settings) -> None:
    if settings.auth == "disabled":
        log.warning("!!! PASSERELLE_AUTH=disabled: the FHIR API is OPEN to anyone who can reach it, "
                    "with no access token and no audit. For local development only. !!!")
    elif settings.auth != "enabled":
        raise ValueError(f"PASSERELLE_AUTH must be 'enabled' or 'disabled', not {settings.auth!r}")
