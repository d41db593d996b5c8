"""The whole application: the FHIR server (server.app) and the channels served over HTTP.

``server`` never imports ``interfaces``; this module adds the interfaces' routes (CDS
Hooks today) to the app ``server.app.create_app`` builds. ``passerelle serve`` and the
tests that need CDS Hooks build the app here.
"""

from __future__ import annotations

from fastapi import FastAPI

from server.app import create_app as create_server_app
from server.config import Settings
from server.context import AppContext

from .cdshooks import router as cds_hooks_router


def create_app(settings: Settings | None = None, *, context: AppContext | None = None) -> FastAPI:
    app = create_server_app(settings, context=context)
    app.include_router(cds_hooks_router(app.state.ctx))
    return app
