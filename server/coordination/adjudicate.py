"""Item by item adjudication of a Claim by the site rules (``rules.py``) and the coverage.

Each item gets a review action (X12 306, in the PAS 2.x ``extension-reviewAction`` on its
adjudication): A1 certified in total, A6 modified (certified for less than asked: the
quantity the rules allow, in the PAS ``extension-itemAuthorizedDetail``), A3 not
certified, A4 pended for a coordinator. The ClaimResponse outcome follows: complete
(nothing pended), queued (everything pended), partial (some pended, others decided).
Certified items (A1, A6) carry the authorization number in their review action; denied
and pended ones carry none.
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

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
REVIEW_ACTION = PAS + "extension-reviewAction"
REVIEW_ACTION_CODE = PAS + "extension-reviewActionCode"  # the "code" slice of reviewAction (PAS 2.x)
AUTHORIZED_DETAIL = PAS + "extension-itemAuthorizedDetail"
PREAUTH_ISSUE_DATE = PAS + "extension-itemPreAuthIssueDate"
X12_306 = "https://codesystem.x12.org/005010/306"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
APPROVED, MODIFIED, DENIED, PENDED = "A1", "A6", "A3", "A4"
CERTIFIED = frozenset({APPROVED, MODIFIED})
ACTION_TEXT = {APPROVED: "Certified in total", MODIFIED: "Modified", DENIED: "Not certified", PENDED: "Pended"}


@dataclass
class Decision:
    action: str
    reason: str
    quantity: Decimal | None = None  # A6: the quantity certified


def quantity_of(item: dict) -> Decimal:
    return Decimal(str((item.get("quantity") or {}).get("value", 1)))


def amount(item: dict, quantity: Decimal | None = None) -> tuple[Decimal, str | None]:
    """The item's amount (its ``net``), or for ``quantity`` of it, unit price x quantity x factor."""
    net = item.get("net")
    price = item.get("unitPrice") or {}
    if quantity is None and net and net.get("value") is not None:
        return Decimal(str(net["value"])), net.get("currency")
    if quantity is not None and not price and net and net.get("value") is not None:
        share = quantity / quantity_of(item) if quantity_of(item) else Decimal(0)
        return Decimal(str(net["value"])) * share, net.get("currency")
    quantity = quantity_of(item) if quantity is None else quantity
    factor = Decimal(str(item.get("factor", 1)))
    return Decimal(str(price.get("value", 0))) * quantity * factor, price.get("currency")


def _codes(item: dict) -> set[tuple[str, str]]:
    return {(c.get("system", ""), c.get("code", "")) for c in codings(item.get("productOrService"))}


def decide(item: dict, claim: dict, rules: ClaimRules, covered: bool,
           authorized: dict[tuple[str, str], Decimal | None]) -> Decision:
    """``authorized``: the services the quoted prior authorizations certified, and for how
    many (None: no limit)."""
    codes = _codes(item)
    if not covered:
        return Decision(DENIED, "coverage not in force on the service date")
    if codes & rules.not_covered:
        return Decision(DENIED, "service not covered by the plan")
    if codes & rules.pend_for_review:
        return Decision(PENDED, "site rules send this service to a coordinator")
    needs_authorization = bool(codes & rules.authorization_required)
    quantity = quantity_of(item)
    if claim["use"] == "claim":
        if not needs_authorization:
            return Decision(APPROVED, "payable")
        limits = [authorized[c] for c in codes if c in authorized]
        if not limits:
            return Decision(DENIED, "no approved prior authorization for this service")
        allowed = None if None in limits else max(limits)
        if allowed is not None and quantity > allowed:
            return Decision(MODIFIED, f"payable for the {_number(allowed)} authorized of {_number(quantity)}",
                            allowed)
        return Decision(APPROVED, "payable")
    if not needs_authorization:
        return Decision(APPROVED, "no authorization required for this service")
    for code in codes & set(rules.auto_approve):
        limits = rules.auto_approve[code]
        unit_price = Decimal(str((item.get("unitPrice") or {}).get("value", 0)))
        currency = (item.get("unitPrice") or {}).get("currency")
        if limits.max_unit_price is not None and (unit_price > limits.max_unit_price
                                                  or limits.currency and currency not in (None, limits.currency)):
            return Decision(PENDED, "unit price above the automatic limit")
        if limits.max_quantity is not None and quantity > limits.max_quantity:
            if limits.modify_over_limit:  # rules: "overLimit": "modify"
                return Decision(MODIFIED, f"certified for {_number(limits.max_quantity)} of the "
                                          f"{_number(quantity)} requested (the automatic limit)", limits.max_quantity)
            return Decision(PENDED, f"quantity {quantity} above the automatic limit {limits.max_quantity}")
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


def authorized_services(uow, claim: dict) -> dict[tuple[str, str], Decimal | None]:
    """Services certified by the prior authorizations the claim quotes (insurance.preAuthRef),
    with the quantity certified: the request's for A1, the authorized detail's for A6."""
    refs = {r for insurance in claim.get("insurance", []) for r in insurance.get("preAuthRef", [])}
    if not refs:
        return {}
    approved: dict[tuple[str, str], Decimal | None] = {}
    for response in search(uow, "ClaimResponse", [("patient", claim["patient"]["reference"]),
                                                  ("use", "preauthorization")], limit=1000):
        if response.get("preAuthRef") not in refs:
            continue
        request = uow.read(*response["request"]["reference"].split("/")).resource()
        by_sequence = {i["sequence"]: i for i in request.get("item", [])}
        for item in response.get("item", []):
            action = action_of(item)
            if action not in CERTIFIED or item.get("itemSequence") not in by_sequence:
                continue
            requested = by_sequence[item["itemSequence"]]
            certified = authorized_quantity(item) if action == MODIFIED else quantity_of(requested)
            for code in _codes(requested):
                known = approved.get(code, Decimal(0))
                approved[code] = None if certified is None or (code in approved and known is None) \
                    else max(known, certified)
    return approved


def authorized_quantity(response_item: dict) -> Decimal | None:
    """The quantity in a ClaimResponse item's ``itemAuthorizedDetail`` (None: not given)."""
    for ext in response_item.get("extension", []):
        if ext.get("url") == AUTHORIZED_DETAIL:
            for part in ext.get("extension", []):
                if part.get("url") == "quantity" and (part.get("valueQuantity") or {}).get("value") is not None:
                    return Decimal(str(part["valueQuantity"]["value"]))
    return None


def action_of(response_item: dict) -> str | None:
    for adjudication in response_item.get("adjudication", []):
        for ext in adjudication.get("extension", []):
            if ext.get("url") == REVIEW_ACTION:
                for part in ext.get("extension", []):
                    if part.get("url") in (REVIEW_ACTION_CODE, "code"):  # "code": as stored before PAS 2.x
                        return next((c.get("code") for c in codings(part.get("valueCodeableConcept"))), None)
    return None


def item_adjudication(item: dict, decision: Decision, pre_auth_ref: str | None, issued: datetime | None = None) -> dict:
    """One ClaimResponse.item: the review action (with the authorization number when
    certified), the amount submitted and, when certified, the benefit."""
    review = [{"url": REVIEW_ACTION_CODE, "valueCodeableConcept": {"coding": [
        {"system": X12_306, "code": decision.action, "display": ACTION_TEXT[decision.action]}]}}]
    if decision.action in CERTIFIED and pre_auth_ref:
        review.insert(0, {"url": "number", "valueString": pre_auth_ref})
    adjudication = [{"extension": [{"url": REVIEW_ACTION, "extension": review}],
                     "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                     "reason": {"text": decision.reason}, "amount": _money(*amount(item))}]
    if decision.action in CERTIFIED:
        adjudication.append({"category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]},
                             "amount": _money(*amount(item, decision.quantity))})
    out = {"itemSequence": item["sequence"], "adjudication": adjudication}
    extensions = []
    if decision.action in CERTIFIED and pre_auth_ref and issued is not None:
        extensions.append({"url": PREAUTH_ISSUE_DATE, "valueDate": format_instant(issued)[:10]})
    if decision.action == MODIFIED:
        detail = [{"url": "quantity", "valueQuantity": {"value": _number(decision.quantity)}}]
        codes = item.get("productOrService")
        if codes:
            detail.insert(0, {"url": "productOrServiceCode", "valueCodeableConcept": codes})
        extensions.append({"url": AUTHORIZED_DETAIL, "extension": detail})
    if extensions:
        out = {"extension": extensions, **out}
    return out


def _money(value: Decimal, currency: str | None) -> dict:
    return {"value": _number(value), **({"currency": currency} if currency else {})}


def outcome(actions: list[str]) -> str:
    pended = actions.count(PENDED)
    return "complete" if not pended else "queued" if pended == len(actions) else "partial"


def pre_auth_number(claim_id: str) -> str:
    return "PA-" + hashlib.sha256(claim_id.encode()).hexdigest()[:10].upper()


def response_for(claim: dict, claim_id: str, decisions: list[Decision], now: datetime) -> dict:
    """The ClaimResponse for a stored Claim and its item decisions."""
    actions = [d.action for d in decisions]
    preauth = claim["use"] == "preauthorization"
    number = pre_auth_number(claim_id) if preauth and CERTIFIED & set(actions) else None
    items = [item_adjudication(item, d, number, now) for item, d in zip(claim["item"], decisions)]
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
        response.update(payable(claim, items))
    return {k: v for k, v in response.items() if v is not None}


def payable(claim: dict, items: list[dict]) -> dict:
    """``total`` and ``payment`` of a claim's answer: the sum of its items' benefits."""
    total = Decimal(0)
    for item in items:
        for adjudication in item.get("adjudication", []):
            if any(c.get("code") == "benefit" for c in codings(adjudication.get("category"))):
                total += Decimal(str((adjudication.get("amount") or {}).get("value", 0)))
    currency = next((amount(i)[1] for i in claim["item"] if amount(i)[1]), None)
    money = _money(total, currency)
    return {"total": [{"category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]}, "amount": money}],
            "payment": {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ex-paymenttype",
                                             "code": "complete"}]}, "amount": money}}


def disposition(actions: list[str]) -> str:
    counts = {a: actions.count(a) for a in (APPROVED, MODIFIED, DENIED, PENDED) if actions.count(a)}
    return ", ".join(f"{n} {ACTION_TEXT[a].lower()}" for a, n in counts.items())


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else value
