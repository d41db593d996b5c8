"""Where the endpoints are, as seen by the caller (proxy headers included).

The issuer is the FHIR base URL, so an app that knows the FHIR server knows the issuer
(OpenID discovery then lives at ``[base]/.well-known/openid-configuration``).
"""

from __future__ import annotations

from starlette.requests import Request

from ..api.negotiation import base_url

AUTH_PREFIX = "/auth"


def fhir_base(request: Request) -> str:
    return base_url(request)


def issuer(request: Request) -> str:
    return base_url(request)


def endpoint(request: Request, name: str) -> str:
    return str(request.base_url).rstrip("/") + f"{AUTH_PREFIX}/{name}"
