"""HTTP endpoints of CDS Hooks 2.0: discovery, the services, feedback.

``GET /cds-services``; ``POST /cds-services/{id}`` -> ``{"cards": [...]}``;
``POST /cds-services/{id}/feedback``. CORS is open (CDS clients may be browsers).

Who may call: with trusted CDS clients configured (``PASSERELLE_CDS_HOOKS_CLIENTS``),
every service and feedback call carries a verified client JWT. Without any, the calls
are refused while the server's auth is on (they would disclose patient data to
anyone), and open when auth is disabled (local development). Discovery is public.

With auth on, every service and feedback call, served or refused, is audited (an
AuditEvent committed before the answer leaves, server.audit.cds), as REST requests are.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from server.audit.cds import CdsCall
from server.audit.recorder import record_cds_call
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

    audited = settings.auth != "disabled"

    def authenticate(request: Request, service_id: str) -> tuple[str | None, str | None]:
        """The caller's verified (iss, sub); (None, None) when calls are open."""
        if clients is None:
            if settings.auth != "disabled":
                raise unauthorized("No CDS client is trusted yet (PASSERELLE_CDS_HOOKS_CLIENTS)")
            return None, None
        called = str(request.url).split("?", 1)[0]
        service_url = called.removesuffix("/feedback")
        return clients.verify(ctx, request.headers.get("authorization"), {called, service_url})

    async def answer(request: Request, audit: CdsCall, response: JSONResponse) -> JSONResponse:
        """The response, once its call is on record (500 when it cannot be recorded)."""
        if audited:
            client = request.client
            try:
                await run_in_threadpool(record_cds_call, ctx, audit, response.status_code,
                                        client.host if client else None)
            except Exception:
                log.exception("cds %s: the call could not be audited", audit.service)
                return _error(HookError("The call could not be recorded in the audit trail", 500))
        return response

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
        audit = CdsCall(service_id)
        try:
            service = SERVICES.get(service_id)
            if service is None:
                raise HookError(f"No CDS service {service_id!r}", 404)
            issuer, subject = await run_in_threadpool(authenticate, request, service_id)
            audit = CdsCall(service_id, issuer=issuer, subject=subject, hook=service.hook)
            body = await body_of(request)
            audit = _described(audit, body)
            req = parse(body, service.hook)
            cards = await run_in_threadpool(service.handler, ctx, kb, req)
            log.info("cds %s hookInstance=%s cards=%d", service_id, req.hook_instance, len(cards))
            return await answer(request, audit, JSONResponse({"cards": cards}, headers=CORS))
        except HookError as exc:
            return await answer(request, audit, _error(exc))

    @api.post("/{service_id}/feedback")
    async def feedback(service_id: str, request: Request):
        audit = CdsCall(service_id, feedback=True)
        try:
            if service_id not in SERVICES:
                raise HookError(f"No CDS service {service_id!r}", 404)
            issuer, subject = await run_in_threadpool(authenticate, request, service_id)
            audit = CdsCall(service_id, feedback=True, issuer=issuer, subject=subject,
                            hook=SERVICES[service_id].hook)
            items = feedback_module.parse(await body_of(request))
            kept = await run_in_threadpool(feedback_module.record, ctx, items)
            log.info("cds feedback %s items=%d kept=%d", service_id, len(items), kept)
            return await answer(request, audit, JSONResponse({}, headers=CORS))
        except HookError as exc:
            return await answer(request, audit, _error(exc))

    return api


def _described(audit: CdsCall, body) -> CdsCall:
    """The ids the request names (hookInstance, patient, user), as sent, for the audit trail."""
    context = body.get("context") if isinstance(body, dict) else None
    context = context if isinstance(context, dict) else {}

    def text(value) -> str | None:
        return value[:200] if isinstance(value, str) and value else None

    return replace(audit, hook_instance=text(body.get("hookInstance")) if isinstance(body, dict) else None,
                   patient=text(context.get("patientId")), user=text(context.get("userId")))


def _error(exc: HookError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers={**CORS, **exc.headers})
