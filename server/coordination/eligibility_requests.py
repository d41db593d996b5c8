"""Processing a CoverageEligibilityRequest: store it and its CoverageEligibilityResponse.

Reached by ``CoverageEligibilityRequest/$submit`` and, through the store listener, by a
plain ``POST CoverageEligibilityRequest`` (or a transaction entry): either way the
request and its answer are written in the same transaction. The answer comes from the
payer adapter for the request's insurer (``payers.payer_for``).
"""

from __future__ import annotations

import uuid

from ..errors import BadRequest
from .payers import payer_for

KIND = "CoverageEligibilityRequest"


def _processed(uow) -> set:
    # Requests answered in this unit of work: $submit answers explicitly, so the listener
    # must not answer the same request a second time.
    return uow.__dict__.setdefault("_eligibility_processed", set())


def respond(uow, settings, request: dict, fhir_id: str) -> dict:
    _processed(uow).add(fhir_id)
    insurer = (request.get("insurer") or {}).get("reference")
    return payer_for(settings, insurer).check_eligibility(uow, request, f"{KIND}/{fhir_id}")


def submit(uow, settings, request: dict | None):
    """Store the request and the computed response; returns the stored response."""
    if not isinstance(request, dict) or request.get("resourceType") != KIND:
        raise BadRequest(f"$submit on {KIND} takes a {KIND} (as the body, or the 'resource' parameter)",
                         code="structure", expression="resource")
    fhir_id = str(uuid.uuid4())
    _processed(uow).add(fhir_id)
    uow.create({k: v for k, v in request.items() if k not in ("id", "meta")}, fhir_id=fhir_id)
    return uow.create(respond(uow, settings, request, fhir_id))


class EligibilityRequests:
    """Store listener: a new active CoverageEligibilityRequest gets its response."""

    def __init__(self, settings):
        self.settings = settings

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type != KIND or resource is None or resource.get("status") != "active":
            return
        if fhir_id in _processed(uow) or uow.pid_of(KIND, fhir_id) is not None:
            return  # answered already, or an update of a request answered when it was created
        uow.create(respond(uow, self.settings, resource, fhir_id))
