"""$submit (Claim: Da Vinci PAS; CoverageEligibilityRequest: eligibility) and Claim/$inquire.

One operation name for two types: ``$submit`` dispatches on the resource type. The work
is in ``server.coordination``.
"""

from __future__ import annotations

from ..api.outcome import Answer
from ..coordination import claims, eligibility_requests, params
from .registry import OperationCall, operation

PAS = "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/"


def _input(call: OperationCall) -> dict | None:
    """The resource POSTed as the body, or the 'resource' parameter of a Parameters."""
    if call.body is not None:
        return call.body
    values = params.raw_values(call, "resource")
    return values[0] if values else None


def _bundle(call: OperationCall, stored: list) -> dict:
    return {"resourceType": "Bundle", "type": "collection",
            "timestamp": stored[0].last_updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entry": [{"fullUrl": f"{call.base}/{s.resource_type}/{s.id}", "resource": s.resource()} for s in stored]}


@operation("submit", definition=PAS + "Claim-submit", levels=("type",), affects_state=True,
           resource_types=("Claim", "CoverageEligibilityRequest"),
           documentation="Claim: a PAS Bundle (Claim first) -> Bundle led by the ClaimResponse. "
                         "CoverageEligibilityRequest: the request -> its CoverageEligibilityResponse")
def submit(call: OperationCall) -> Answer:
    if call.resource_type == "CoverageEligibilityRequest":
        stored = eligibility_requests.submit(call.uow, call.ctx.settings, _input(call))
        return Answer(200, stored)
    status, stored = claims.submit(call.uow, call.ctx.settings, _input(call))
    del status  # PAS answers 200 for a new request and for a retry alike
    return Answer(200, body=_bundle(call, stored))


@operation("inquire", definition=PAS + "Claim-inquiry", levels=("type",), resource_types=("Claim",),
           documentation="The current ClaimResponse of a submitted Claim (PAS inquiry Bundle, or 'identifier')")
def inquire(call: OperationCall) -> Answer:
    identifier = (params.tokens(call, "identifier") or [None])[0]
    return Answer(200, body=_bundle(call, claims.inquire(call.uow, _input(call), identifier)))
