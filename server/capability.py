"""The CapabilityStatement, generated from the registries (never written by hand).

Resource types come from the validator's known types, search parameters from the
SearchParameter registry, operations from the operation registry: what is listed
here is what the routes serve, and ``tests/contracts`` fails on any drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from starlette.requests import Request

from .api.negotiation import base_url
from .auth.urls import AUTH_PREFIX
from .operations import OPERATIONS
from .search.compartment import COMPARTMENTS

TYPE_INTERACTIONS = ("read", "vread", "update", "patch", "delete", "history-instance", "history-type",
                     "create", "search-type")
SYSTEM_INTERACTIONS = ("transaction", "batch", "history-system", "search-system")
STARTED = datetime.now(UTC).replace(microsecond=0).isoformat()  # this instance's statement date


def _software_version() -> str:
    try:
        return version("passerelle")
    except PackageNotFoundError:
        return "0.0.0+source"


def _operations(level: str, resource_type: str | None = None) -> list[dict]:
    return [{"name": op.name, "definition": op.definition} for op in OPERATIONS.for_level(level, resource_type)]


def _resource(ctx, resource_type: str) -> dict:
    params = ctx.registry.for_type(resource_type)
    entry = {
        "type": resource_type,
        "interaction": [{"code": code} for code in TYPE_INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "not-supported",
        "conditionalUpdate": True,
        "conditionalDelete": "single",
        "searchParam": [
            {k: v for k, v in (("name", code), ("definition", p.url), ("type", p.type)) if v}
            for code, p in sorted(params.items())
        ],
    }
    operations = _operations("type", resource_type) + _operations("instance", resource_type)
    unique = {op["name"]: op for op in operations}
    if unique:
        entry["operation"] = list(unique.values())
    return entry


def _security(ctx, request: Request) -> dict:
    """SMART App Launch: the service coding and the oauth-uris extension (the same
    endpoints as ``.well-known/smart-configuration``)."""
    if ctx.settings.auth == "disabled":
        return {"cors": True, "description": "Authorization is DISABLED on this server (development only)."}
    root = str(request.base_url).rstrip("/") + AUTH_PREFIX
    uris = [{"url": name, "valueUri": f"{root}/{name}"} for name in ("authorize", "token", "introspect", "revoke")]
    return {
        "cors": True,
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                 "code": "SMART-on-FHIR"}],
                     "text": "OAuth2 using the SMART App Launch 2 profile"}],
        "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                       "extension": uris}],
        "description": "SMART App Launch 2 (scopes v1 and v2, patient/user/system) and Backend Services; "
                       "discovery at .well-known/smart-configuration",
    }


def capability_statement(ctx, request: Request) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STARTED,
        "kind": "instance",
        "software": {"name": "Passerelle", "version": _software_version()},
        "implementation": {"description": "Passerelle FHIR R4 gateway", "url": base_url(request)},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "resource": [_resource(ctx, t) for t in sorted(ctx.resource_types)],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "compartment": [f"http://hl7.org/fhir/CompartmentDefinition/{c.lower()}" for c in COMPARTMENTS],
                "operation": _operations("system"),
                "security": _security(ctx, request),
            }
        ],
    }
