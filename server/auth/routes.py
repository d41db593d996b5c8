"""All authorization-server routes, included by ``create_app`` before the FHIR routes
(``/fhir/.well-known/...`` would otherwise be read as a resource type and an id)."""

from __future__ import annotations

from fastapi import APIRouter

from . import authorize, discovery, introspect, launch, revoke, token

router = APIRouter()
for module in (discovery, authorize, token, introspect, revoke, launch):
    router.include_router(module.router)
