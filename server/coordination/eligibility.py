"""CoverageEligibilityRequest -> CoverageEligibilityResponse from the local data.

For each coverage asked about: is it in force on the service date (status and period),
and for each service category asked about (default: "30", health benefit plan
coverage): is it covered by the plan (InsurancePlan.coverage.benefit.type), with its
limit (allowed), what the stored ExplanationOfBenefits already used in the benefit year
(used; remaining in an extension), and whether the provider is in the plan's network.

The plan of a Coverage is the InsurancePlan whose identifier is the Coverage's
``class`` of type ``plan``; failing that, the payer's only active InsurancePlan.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..errors import BadRequest, Unprocessable
from .fhirtime import parse_instant, to_aware
from .lookup import codings, read_reference, search, split_reference, token_matches

CATEGORY = "http://terminology.hl7.org/CodeSystem/ex-benefitcategory"
NETWORK = "http://terminology.hl7.org/CodeSystem/benefit-network"
BENEFIT_TYPE = "http://terminology.hl7.org/CodeSystem/benefit-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CURRENCY = "urn:iso:std:iso:4217"
REMAINING = "http://passerelle.example/StructureDefinition/benefit-remaining"
DEFAULT_CATEGORY = {"coding": [{"system": CATEGORY, "code": "30", "display": "Health Benefit Plan Coverage"}]}


def service_date(request: dict, now: datetime) -> datetime:
    value = request.get("servicedDate") or (request.get("servicedPeriod") or {}).get("start")
    return parse_instant(value, expression="CoverageEligibilityRequest.servicedDate") if value else now


def coverages(uow, request: dict) -> list[tuple[str, dict]]:
    """(expression, Coverage) for each insurance of the request; none given: the patient's active ones."""
    patient = _patient(request)
    if not request.get("insurance"):
        return [("CoverageEligibilityRequest.patient", c)
                for c in search(uow, "Coverage", [("beneficiary", patient), ("status", "active")])]
    out = []
    for i, insurance in enumerate(request["insurance"]):
        where = f"CoverageEligibilityRequest.insurance[{i}].coverage"
        reference = (insurance.get("coverage") or {}).get("reference")
        if not reference:
            raise BadRequest("The insurance names no Coverage", code="required", expression=where)
        coverage = read_reference(uow, reference, expected="Coverage", expression=where)
        if coverage.get("beneficiary", {}).get("reference") != patient:
            raise Unprocessable(f"{reference} is not a coverage of {patient}", code="business-rule", expression=where)
        out.append((where, coverage))
    return out


def _patient(request: dict) -> str:
    reference = (request.get("patient") or {}).get("reference")
    if not reference:
        raise BadRequest("The request names no patient", code="required",
                         expression="CoverageEligibilityRequest.patient")
    return reference


def evaluate(uow, request: dict, request_ref: str) -> dict:
    """The CoverageEligibilityResponse (not stored) answering ``request`` from local data."""
    now = to_aware(uow.now)
    when = service_date(request, now)
    found = coverages(uow, request)
    provider_orgs = _organizations_of(uow, (request.get("provider") or {}).get("reference"))
    insurer = request.get("insurer") or next((c["payor"][0] for _, c in found if c.get("payor")), None)
    insurance = []
    for _, coverage in found:
        plan = plan_of(uow, coverage)
        active = in_force(coverage, when)
        entry = {"coverage": {"reference": f"Coverage/{coverage['id']}"}, "inforce": active}
        if coverage.get("period"):
            entry["benefitPeriod"] = coverage["period"]
        if active:
            items = request.get("item") or [{"category": DEFAULT_CATEGORY}]
            entry["item"] = [_item(uow, item, coverage, plan, when, provider_orgs) for item in items]
        insurance.append(entry)
    response = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": request.get("purpose") or ["validation"],
        "patient": {"reference": _patient(request)},
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request": {"reference": request_ref},
        "outcome": "complete",
        "disposition": _disposition(insurance),
        "insurer": insurer or {"display": "unknown payer"},
        "insurance": insurance,
    }
    for element in ("servicedDate", "servicedPeriod", "requestor"):
        if request.get(element):
            response[element] = request[element]
    return response


def _disposition(insurance: list[dict]) -> str:
    if not insurance:
        return "No active coverage found for the patient"
    if not any(i["inforce"] for i in insurance):
        return "Coverage not in force on the service date"
    excluded = any(item.get("excluded") for i in insurance for item in i.get("item", []))
    return "In force; some services are not covered" if excluded else "In force; services covered"


def in_force(coverage: dict, when: datetime) -> bool:
    if coverage.get("status") != "active":
        return False
    period = coverage.get("period") or {}
    start = parse_instant(period["start"], expression="Coverage.period.start") if period.get("start") else None
    end = parse_instant(period["end"], expression="Coverage.period.end") if period.get("end") else None
    if end is not None and len(period["end"]) == 10:
        end = end.replace(hour=23, minute=59, second=59)  # a date includes its whole day
    return (start is None or start <= when) and (end is None or when <= end)


def plan_of(uow, coverage: dict) -> dict | None:
    plan_ids = [c.get("value") for c in coverage.get("class", [])
                if any(x.get("code") == "plan" for x in codings(c.get("type"))) and c.get("value")]
    for value in plan_ids:
        plans = search(uow, "InsurancePlan", [("identifier", value)], limit=10)
        if plans:
            return plans[0]
    payors = [p.get("reference") for p in coverage.get("payor", [])
              if p.get("reference", "").startswith("Organization/")]
    if payors:
        plans = search(uow, "InsurancePlan", [("owned-by", payors[0]), ("status:not", "retired")], limit=10)
        if len(plans) == 1:
            return plans[0]
    return None


def _organizations_of(uow, provider: str | None) -> set[str]:
    """The organizations a provider acts for (itself, a role's, a practitioner's roles')."""
    if not provider:
        return set()
    kind, _ = split_reference(provider, expression="CoverageEligibilityRequest.provider")
    if kind == "Organization":
        return {provider}
    if kind == "PractitionerRole":
        role = read_reference(uow, provider, expression="CoverageEligibilityRequest.provider")
        return {role["organization"]["reference"]} if role.get("organization", {}).get("reference") else set()
    roles = search(uow, "PractitionerRole", [("practitioner", provider)], limit=100)
    return {r["organization"]["reference"] for r in roles if r.get("organization", {}).get("reference")}


def _item(uow, item: dict, coverage: dict, plan: dict | None, when: datetime, provider_orgs: set[str]) -> dict:
    category = item.get("category") or DEFAULT_CATEGORY
    out = {"category": category}
    if item.get("productOrService"):
        out["productOrService"] = item["productOrService"]
    tokens = [f"{c.get('system', '')}|{c['code']}" for c in codings(category) if c.get("code")]
    benefits, networks = plan_benefits(plan, tokens)
    if plan is None or not benefits:
        out["excluded"] = True
        return out
    out["excluded"] = False
    network = _network(plan, networks, provider_orgs)
    if network:
        out["network"] = {"coding": [{"system": NETWORK, "code": network}]}
    out["term"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/benefit-term", "code": "annual"}]}
    out["benefit"] = [b for benefit in benefits for b in _benefit(uow, benefit, coverage, tokens, when)]
    requirement = next((b.get("requirement") for b in benefits if b.get("requirement")), None)
    if requirement:
        out["description"] = requirement
    return out


def plan_benefits(plan: dict | None, tokens: list[str]) -> tuple[list[dict], list[dict]]:
    if plan is None:
        return [], []
    benefits, networks = [], []
    for coverage in plan.get("coverage", []):
        matching = [b for b in coverage.get("benefit", []) if any(token_matches(t, b.get("type")) for t in tokens)]
        if matching:
            benefits += matching
            networks += coverage.get("network", [])
    return benefits, networks


def _network(plan: dict, networks: list[dict], provider_orgs: set[str]) -> str | None:
    members = {n.get("reference") for n in plan.get("network", []) + networks if n.get("reference")}
    if not members or not provider_orgs:
        return None
    return "in" if provider_orgs & members else "out"


def _benefit(uow, benefit: dict, coverage: dict, tokens: list[str], when: datetime) -> list[dict]:
    out = []
    for limit in benefit.get("limit", []):
        value = limit.get("value") or {}
        if value.get("value") is None:
            continue
        code = value.get("code") or ""
        money = value.get("system") == CURRENCY or (code.isupper() and len(code) == 3)
        used = _used(uow, coverage, tokens, when, money)
        allowed = Decimal(str(value["value"]))
        kind = {"coding": [{"system": BENEFIT_TYPE, "code": "benefit"}]}
        if money:
            currency = value.get("code") or value.get("unit")
            entry = {"type": kind, "allowedMoney": {"value": value["value"], "currency": currency},
                     "usedMoney": {"value": _number(used), "currency": currency},
                     "extension": [{"url": REMAINING, "valueMoney": {"value": _number(max(allowed - used, 0)),
                                                                      "currency": currency}}]}
        else:
            kind = {"coding": [{"system": BENEFIT_TYPE, "code": "visit"}]} if "visit" in str(
                value.get("unit", "") + value.get("code", "")).lower() else kind
            entry = {"type": kind, "allowedUnsignedInt": int(allowed), "usedUnsignedInt": int(used),
                     "extension": [{"url": REMAINING, "valueUnsignedInt": int(max(allowed - used, 0))}]}
        out.append(entry)
    return out


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else value


def _used(uow, coverage: dict, tokens: list[str], when: datetime, money: bool) -> Decimal:
    """What the stored ExplanationOfBenefits of this coverage used in the calendar year of ``when``."""
    year = when.year
    used = Decimal(0)
    for eob in search(uow, "ExplanationOfBenefit", [("coverage", f"Coverage/{coverage['id']}"), ("status", "active")]):
        for item in eob.get("item", []):
            served = item.get("servicedDate") or (item.get("servicedPeriod") or {}).get("start") or eob.get("created")
            if not served or parse_instant(served, expression="ExplanationOfBenefit.item.servicedDate").year != year:
                continue
            if item.get("category") and not any(token_matches(t, item["category"]) for t in tokens):
                continue
            if not money:
                used += 1
                continue
            for adjudication in item.get("adjudication", []):
                if any(c.get("code") == "benefit" for c in codings(adjudication.get("category"))):
                    used += Decimal(str((adjudication.get("amount") or {}).get("value", 0)))
    return used


__all__ = ["evaluate", "plan_of", "coverages", "service_date"]
