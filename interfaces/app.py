"""The whole application: the FHIR server (server.app) and the channels served over HTTP.

``server`` never imports ``interfaces``; this module adds the interfaces' routes (CDS
Hooks today) to the app ``server.app.create_app`` builds. ``passerelle serve`` and the
tests that need CDS Hooks build the app here.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from server.app import create_app as create_server_app
from server.config import Settings
from server.context import AppContext

from .cdshooks import router as cds_hooks_router
from .subscriptions import start_for as start_subscription_delivery


def create_app(settings: Settings | None = None, *, context: AppContext | None = None) -> FastAPI:
    app = create_server_app(settings, context=context)
    app.include_router(cds_hooks_router(app.state.ctx))
    server_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(lifespan_app: FastAPI):
        async with server_lifespan(lifespan_app):
            # Subscription delivery: notifications recorded by any process, this one's or a previous run's.
            delivery = start_subscription_delivery(app.state.ctx)
            yield
            if delivery is not None:
                await run_in_threadpool(delivery.stop)

    app.router.lifespan_context = lifespan
    return app
