"""Item by item adjudication of a Claim by the site rules (``rules.py``) and the coverage.

Each item gets a review action (X12 306, as Da Vinci PAS carries it): A1 certified,
A3 not certified, A4 pended for a coordinator. The ClaimResponse outcome follows:
complete (nothing pended), queued (everything pended), partial (some of each).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from . import eligibility
from .fhirtime import format_instant, parse_instant
from .lookup import codings, search
from .rules import ClaimRules

REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"
X12_306 = "https://codesystem.x12.org/005010/306"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
APPROVED, DENIED, PENDED = "A1", "A3", "A4"
ACTION_TEXT = {APPROVED: "Certified in total", DENIED: "Not certified", PENDED: "Pended"}


@dataclass
class Decision:
    action: str
    reason: str


def amount(item: dict) -> tuple[Decimal, str | None]:
    net = item.get("net")
    if net and net.get("value") is not None:
        return Decimal(str(net["value"])), net.get("currency")
    price = item.get("unitPrice") or {}
    quantity = Decimal(str((item.get("quantity") or {}).get("value", 1)))
    factor = Decimal(str(item.get("factor", 1)))
    return Decimal(str(price.get("value", 0))) * quantity * factor, price.get("currency")


def _codes(item: dict) -> set[tuple[str, str]]:
    return {(c.get("system", ""), c.get("code", "")) for c in codings(item.get("productOrService"))}


def decide(item: dict, claim: dict, rules: ClaimRules, covered: bool, authorized: set[tuple[str, str]]) -> Decision:
    codes = _codes(item)
    if not covered:
        return Decision(DENIED, "coverage not in force on the service date")
    if codes & rules.not_covered:
        return Decision(DENIED, "service not covered by the plan")
    if codes & rules.pend_for_review:
        return Decision(PENDED, "site rules send this service to a coordinator")
    needs_authorization = bool(codes & rules.authorization_required)
    if claim["use"] == "claim":
        if needs_authorization and not codes & authorized:
            return Decision(DENIED, "no approved prior authorization for this service")
        return Decision(APPROVED, "payable")
    if not needs_authorization:
        return Decision(APPROVED, "no authorization required for this service")
    for code in codes & set(rules.auto_approve):
        limits = rules.auto_approve[code]
        quantity = Decimal(str((item.get("quantity") or {}).get("value", 1)))
        unit_price = Decimal(str((item.get("unitPrice") or {}).get("value", 0)))
        currency = (item.get("unitPrice") or {}).get("currency")
        if limits.max_quantity is not None and quantity > limits.max_quantity:
            return Decision(PENDED, f"quantity {quantity} above the automatic limit {limits.max_quantity}")
        if limits.max_unit_price is not None and (unit_price > limits.max_unit_price
                                                  or limits.currency and currency not in (None, limits.currency)):
            return Decision(PENDED, "unit price above the automatic limit")
        return Decision(APPROVED, "meets the automatic approval criteria")
    return Decision(PENDED, "authorization required: review by a coordinator")


def service_date(item: dict, claim: dict, fallback: datetime) -> datetime:
    value = (item.get("servicedDate") or (item.get("servicedPeriod") or {}).get("start")
             or (claim.get("billablePeriod") or {}).get("start"))
    return parse_instant(value, expression="Claim.item.servicedDate") if value else fallback


def covered_on(uow, claim: dict, when: datetime) -> bool:
    for insurance in claim.get("insurance", []):
        if insurance.get("focal", True):
            coverage = uow.read(*insurance["coverage"]["reference"].split("/")).resource()
            return eligibility.in_force(coverage, when)
    return False


def authorized_services(uow, claim: dict) -> set[tuple[str, str]]:
    """Services approved by the prior authorizations the claim quotes (insurance.preAuthRef)."""
    refs = {r for insurance in claim.get("insurance", []) for r in insurance.get("preAuthRef", [])}
    if not refs:
        return set()
    approved = set()
    for response in search(uow, "ClaimResponse", [("patient", claim["patient"]["reference"]),
                                                  ("use", "preauthorization")], limit=1000):
        if response.get("preAuthRef") not in refs:
            continue
        request = uow.read(*response["request"]["reference"].split("/")).resource()
        by_sequence = {i["sequence"]: i for i in request.get("item", [])}
        for item in response.get("item", []):
            if action_of(item) == APPROVED and item.get("itemSequence") in by_sequence:
                approved |= _codes(by_sequence[item["itemSequence"]])
    return approved


def action_of(response_item: dict) -> str | None:
    for adjudication in response_item.get("adjudication", []):
        for ext in adjudication.get("extension", []):
            if ext.get("url") == REVIEW_ACTION:
                for part in ext.get("extension", []):
                    if part.get("url") == "code":
                        return next((c.get("code") for c in codings(part.get("valueCodeableConcept"))), None)
    return None


def item_adjudication(item: dict, decision: Decision, pre_auth_ref: str | None) -> dict:
    value, currency = amount(item)
    money = {"value": _number(value), **({"currency": currency} if currency else {})}
    review = [{"url": "code", "valueCodeableConcept": {"coding": [
        {"system": X12_306, "code": decision.action, "display": ACTION_TEXT[decision.action]}]}}]
    if decision.action == APPROVED and pre_auth_ref:
        review.insert(0, {"url": "number", "valueString": pre_auth_ref})
    adjudication = [{"extension": [{"url": REVIEW_ACTION, "extension": review}],
                     "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                     "reason": {"text": decision.reason}, "amount": money}]
    if decision.action == APPROVED:
        adjudication.append({"category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]}, "amount": money})
    return {"itemSequence": item["sequence"], "adjudication": adjudication}


def outcome(actions: list[str]) -> str:
    pended = actions.count(PENDED)
    return "complete" if not pended else "queued" if pended == len(actions) else "partial"


def pre_auth_number(claim_id: str) -> str:
    return "PA-" + hashlib.sha256(claim_id.encode()).hexdigest()[:10].upper()


def response_for(claim: dict, claim_id: str, decisions: list[Decision], now: datetime) -> dict:
    """The ClaimResponse for a stored Claim and its item decisions."""
    actions = [d.action for d in decisions]
    preauth = claim["use"] == "preauthorization"
    number = pre_auth_number(claim_id) if preauth and APPROVED in actions else None
    items = [item_adjudication(item, d, number) for item, d in zip(claim["item"], decisions)]
    response = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": claim.get("type") or {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                                                  "code": "professional"}]},
        "use": claim["use"],
        "patient": claim["patient"],
        "created": format_instant(now),
        "insurer": claim["insurer"],
        "requestor": claim.get("provider"),
        "request": {"reference": f"Claim/{claim_id}"},
        "outcome": outcome(actions),
        "disposition": disposition(actions),
        "item": items,
    }
    for identifier in claim.get("identifier", [])[:1]:
        response["identifier"] = [identifier]
    if number:
        response["preAuthRef"] = number
    if not preauth:
        total = sum((amount(i)[0] for i, d in zip(claim["item"], decisions) if d.action == APPROVED), Decimal(0))
        currency = next((amount(i)[1] for i in claim["item"] if amount(i)[1]), None)
        money = {"value": _number(total), **({"currency": currency} if currency else {})}
        response["total"] = [{"category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]}, "amount": money}]
        response["payment"] = {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ex-paymenttype",
                                                    "code": "complete"}]}, "amount": money}
    return {k: v for k, v in response.items() if v is not None}


def disposition(actions: list[str]) -> str:
    counts = {a: actions.count(a) for a in (APPROVED, DENIED, PENDED) if actions.count(a)}
    return ", ".join(f"{n} {ACTION_TEXT[a].lower()}" for a, n in counts.items())


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else value
