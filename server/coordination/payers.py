"""Payer adapters: who answers an eligibility question for a given payer.

The built-in ``LocalPayer`` evaluates the data stored here (``eligibility.evaluate``).
A site plugs in a real payer with ``PASSERELLE_PAYER_ENDPOINTS``
(``Organization/<id>=https://payer.example/fhir``, comma separated): requests whose
insurer is that Organization are sent to the payer's FHIR ``CoverageEligibilityRequest/$submit``,
the Coverage contained, and its CoverageEligibilityResponse becomes ours.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from ..errors import FhirError
from . import eligibility

log = logging.getLogger("passerelle.payers")
FHIR_JSON = "application/fhir+json"


class PayerAdapter(Protocol):
    def check_eligibility(self, uow, request: dict, request_ref: str) -> dict:
        """A CoverageEligibilityResponse (not stored) for ``request``."""


class LocalPayer:
    def check_eligibility(self, uow, request: dict, request_ref: str) -> dict:
        return eligibility.evaluate(uow, request, request_ref)


class PayerUnavailable(FhirError):
    status, code = 502, "transient"


class RemoteFhirPayer:
    """A payer's FHIR endpoint. Only identifiers leave: the patient goes as its identifier."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.transport = transport

    def check_eligibility(self, uow, request: dict, request_ref: str) -> dict:
        outgoing = self._outgoing(uow, request)
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                answer = client.post(f"{self.base_url}/CoverageEligibilityRequest/$submit", json=outgoing,
                                     headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON})
        except httpx.HTTPError as exc:
            log.warning("payer %s unreachable: %s", self.base_url, type(exc).__name__)
            raise PayerUnavailable(f"The payer at {self.base_url} did not answer; try again later") from None
        body = _json(answer)
        if answer.status_code != 200 or body.get("resourceType") != "CoverageEligibilityResponse":
            log.warning("payer %s answered %s", self.base_url, answer.status_code)
            raise PayerUnavailable(f"The payer at {self.base_url} answered {answer.status_code} without a "
                                   f"CoverageEligibilityResponse")
        # Its ids and references are the payer's: keep its answer, point it at our records.
        response = {k: v for k, v in body.items() if k not in ("id", "meta", "contained")}
        response["request"] = {"reference": request_ref}
        response["patient"] = request["patient"]
        for insurance, ours in zip(response.get("insurance", []), request.get("insurance", [])):
            insurance["coverage"] = ours.get("coverage")
        return response

    def _outgoing(self, uow, request: dict) -> dict:
        outgoing = {k: v for k, v in request.items() if k not in ("id", "meta")}
        outgoing["insurance"] = [dict(insurance) for insurance in request.get("insurance", [])]
        contained = []
        for i, insurance in enumerate(outgoing.get("insurance", [])):
            coverage = uow.read(*insurance["coverage"]["reference"].split("/")[-2:]).resource()
            local_id = f"coverage{i}"
            coverage = {k: v for k, v in coverage.items() if k not in ("meta",)}
            coverage["id"] = local_id
            coverage["beneficiary"] = _identifier_only(uow, coverage.get("beneficiary"))
            contained.append(coverage)
            outgoing["insurance"][i] = {**insurance, "coverage": {"reference": f"#{local_id}"}}
        outgoing["patient"] = _identifier_only(uow, request.get("patient"))
        if contained:
            outgoing["contained"] = contained
        return outgoing


def _identifier_only(uow, reference: dict | None) -> dict:
    """A logical reference (identifier) in place of our local one."""
    if not reference or not reference.get("reference"):
        return reference or {}
    resource_type, fhir_id = reference["reference"].split("/")[-2:]
    resource = uow.read(resource_type, fhir_id).resource()
    identifiers = resource.get("identifier") or []
    if not identifiers:
        return {"type": resource_type}
    identifier = {k: identifiers[0][k] for k in ("system", "value") if k in identifiers[0]}
    return {"type": resource_type, "identifier": identifier}


def _json(answer: httpx.Response) -> dict:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def parse_endpoints(text: str) -> dict[str, str]:
    """'Organization/a=https://x/fhir, Organization/b=https://y/fhir' -> {insurer: base}."""
    endpoints = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        insurer, sep, url = item.partition("=")
        if not sep or not insurer.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"PASSERELLE_PAYER_ENDPOINTS: {item!r} is not 'Organization/<id>=https://…'")
        endpoints[insurer.strip()] = url.strip()
    return endpoints


def payer_for(settings, insurer: str | None) -> PayerAdapter:
    endpoint = parse_endpoints(getattr(settings, "payer_endpoints", "")).get(insurer or "")
    if endpoint:
        return RemoteFhirPayer(endpoint, timeout=getattr(settings, "payer_timeout_seconds", 10.0))
    return LocalPayer()
