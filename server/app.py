"""create_app(): wiring only."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse

from .access_log import AccessLog
from .alerts import AlertListener
from .api import routes
from .api.negotiation import error_response
from .audit.recorder import AuditRecorder
from .auth import routes as auth_routes
from .authz.listener import InternalAfterCommit
from .authz.middleware import Enforcement, warn_if_disabled
from .config import Settings
from .context import AppContext
from .errors import BadRequest, FhirError, MethodNotAllowed, NotFound
from .search.extract import extract
from .search.limits import SearchLimits
from .search.registry import SearchRegistry
from .search.reindex import Reindexer
from .search.runtime import RuntimeSearchParameters
from .storage.db import make_engine, migrate
from .coordination import install as install_coordination
from .forms.review import FormReviews
from .mdm.listener import MdmListener
from .notes import NoteExtraction, warm_note_pipelines
from .storage.repository import Store
from .subscriptions import SubscriptionListener
from .validation import known_resource_types, validate_resource

log = logging.getLogger("passerelle")


def build_context(settings: Settings, *, run_migrations: bool = True) -> AppContext:
    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    # A registry of its own: stored SearchParameters belong to this database, not to the process.
    registry = SearchRegistry()
    store = Store(engine, registry=registry, extract=lambda r: extract(r, registry), validate=validate_resource,
                  search_limits=SearchLimits.of(settings))
    runtime = RuntimeSearchParameters(registry, refresh_seconds=settings.search_parameter_refresh_seconds)
    store.listeners.append(runtime)
    store.listeners.append(InternalAfterCommit())  # first: later listeners' after-commit work runs as the server
    store.listeners.append(AlertListener.from_settings(settings))  # DetectedIssues after each commit
    store.listeners.append(MdmListener.from_settings(settings))  # identity matching, in each write transaction
    store.listeners.append(NoteExtraction(settings))  # allergies and medications read from notes, after commit
    install_coordination(store, settings)  # Slots follow Appointments, eligibility answers, claim reviews
    store.listeners.append(FormReviews(settings))  # a closed form field review Task writes its value
    store.listeners.append(SubscriptionListener(settings, known_resource_types()))  # last: records final content
    return AppContext(settings, store, registry, known_resource_types(), search_parameters=runtime,
                      reindexer=Reindexer(store))


def create_app(settings: Settings | None = None, *, context: AppContext | None = None) -> FastAPI:
    ctx = context or build_context(settings or Settings())
    warn_if_disabled(ctx.settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Background jobs a previous run left unfinished go on here; shutdown pauses them.
        await run_in_threadpool(ctx.reindexer.resume_unfinished)
        if ctx.settings.nlp_notes:  # build the note pipelines now, not on the first note a client sends
            threading.Thread(target=warm_note_pipelines, name="nlp-warm-up", daemon=True).start()
        yield
        await run_in_threadpool(ctx.reindexer.stop)

    app = FastAPI(title="Passerelle", description="FHIR R4 interoperability gateway", version="0.1.0",
                  docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.include_router(auth_routes.router)  # first: /fhir/.well-known/* is not a resource type
    app.include_router(routes.router)
    # Outermost last: the access log sees the 401s and 429s that enforcement answers itself.
    app.add_middleware(Enforcement, ctx=ctx, audit=AuditRecorder(ctx))
    app.add_middleware(AccessLog)

    @app.get("/", include_in_schema=False)
    async def home():
        return RedirectResponse("/fhir/metadata")

    @app.exception_handler(FhirError)
    async def fhir_error(request: Request, exc: FhirError):
        return error_response(exc, request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 405:
            return error_response(MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}"), request)
        if exc.status_code == 404:
            return error_response(NotFound(f"No FHIR endpoint at {request.url.path}"), request)
        error = FhirError(str(exc.detail))
        error.status = exc.status_code
        return error_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return error_response(BadRequest(f"Malformed request: {exc.errors()}"), request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # Log the trace for operators; the client gets an OperationOutcome, never a stack trace.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(FhirError("Internal server error; the incident was logged"), request)

    return app
