"""Access log without patient data.

uvicorn's own access log prints the query string, and FHIR query strings carry names,
birth dates and identifiers. This one logs one structured line per request with the
method, the path (resource types and ids only), the parameter NAMES, the status, the
duration and the OAuth client_id of the token.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl

from . import jsonio

log = logging.getLogger("passerelle.access")


class AccessLog:
    """ASGI middleware: one ``passerelle.access`` line per HTTP request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            names = sorted({name for name, _ in parse_qsl(query, keep_blank_values=True)})
            access = scope.get("passerelle.access")  # set by server.authz.middleware
            log.info(jsonio.dumps({
                "method": scope["method"], "path": scope["path"], "params": names, "status": status,
                "ms": round((time.monotonic() - started) * 1000, 1),
                "client": access.client_id if access is not None else None,  # an id, never a name
            }).decode())
