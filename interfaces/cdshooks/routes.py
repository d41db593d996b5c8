"""HTTP endpoints of CDS Hooks 2.0: discovery, the services, feedback.

``GET /cds-services``; ``POST /cds-services/{id}`` -> ``{"cards": [...]}``;
``POST /cds-services/{id}/feedback``. CORS is open (CDS clients may be browsers).

Who may call: with trusted CDS clients configured (``PASSERELLE_CDS_HOOKS_CLIENTS``),
every service and feedback call carries a verified client JWT. Without any, the calls
are refused while the server's auth is on (they would disclose patient data to
anyone), and open when auth is disabled (local development). Discovery is public.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from terminology import knowledge

from . import feedback as feedback_module
from . import services  # noqa: F401 - registers the services
from .auth import TrustedClients, unauthorized
from .registry import SERVICES, discovery
from .request import HookError, parse

log = logging.getLogger("passerelle.cdshooks")

CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {**CORS, "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
             "Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "600"}


def router(ctx) -> APIRouter:
    settings = ctx.settings
    clients = TrustedClients.load(settings.cds_hooks_clients) if settings.cds_hooks_clients else None
    kb = knowledge.load(settings.knowledge_dir or None)
    api = APIRouter(prefix="/cds-services")

    def authenticate(request: Request, service_id: str) -> None:
        if clients is None:
            if settings.auth != "disabled":
                raise unauthorized("No CDS client is trusted yet (PASSERELLE_CDS_HOOKS_CLIENTS)")
            return
        called = str(request.url).split("?", 1)[0]
        service_url = called.removesuffix("/feedback")
        clients.verify(ctx, request.headers.get("authorization"), {called, service_url})

    async def body_of(request: Request):
        try:
            return json.loads(await request.body())
        except ValueError:
            raise HookError("The request body is not JSON") from None

    @api.get("")
    async def discover():
        return JSONResponse(discovery(), headers=CORS)

    @api.options("")
    @api.options("/{service_id}")
    @api.options("/{service_id}/feedback")
    async def preflight():
        return Response(status_code=204, headers=PREFLIGHT)

    @api.post("/{service_id}")
    async def call(service_id: str, request: Request):
        try:
            service = SERVICES.get(service_id)
            if service is None:
                raise HookError(f"No CDS service {service_id!r}", 404)
            await run_in_threadpool(authenticate, request, service_id)
            req = parse(await body_of(request), service.hook)
            cards = await run_in_threadpool(service.handler, ctx, kb, req)
            log.info("cds %s hookInstance=%s cards=%d", service_id, req.hook_instance, len(cards))
            return JSONResponse({"cards": cards}, headers=CORS)
        except HookError as exc:
            return _error(exc)

    @api.post("/{service_id}/feedback")
    async def feedback(service_id: str, request: Request):
        try:
            if service_id not in SERVICES:
                raise HookError(f"No CDS service {service_id!r}", 404)
            await run_in_threadpool(authenticate, request, service_id)
            items = feedback_module.parse(await body_of(request))
            kept = await run_in_threadpool(feedback_module.record, ctx, items)
            log.info("cds feedback %s items=%d kept=%d", service_id, len(items), kept)
            return JSONResponse({}, headers=CORS)
        except HookError as exc:
            return _error(exc)

    return api


def _error(exc: HookError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers={**CORS, **exc.headers})
