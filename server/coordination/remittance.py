"""Remittance: each payment detail of a PaymentReconciliation matched to its Claim.

A detail designates its claim by ``detail.request`` (a Claim here, or a logical
reference by identifier) or, failing that, by ``detail.response`` (a ClaimResponse).
It is then compared with what the ClaimResponse said would be paid:

* ``paid``: the amounts agree; ``under-payment`` / ``over-payment`` otherwise;
* ``duplicate-payment``: another stored PaymentReconciliation already paid that claim;
* ``late-payment``: paid more than ``payment_days`` after the claim was created;
* ``unknown-claim``: no Claim here matches.

Each anomaly becomes a Task for a coordinator (once: its identifier names the detail and
the reason, so reconciling again creates nothing new).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from .fhirtime import format_instant, parse_instant, to_aware
from .lookup import identifier_token, search

ANOMALY = "http://passerelle.example/CodeSystem/payment-anomaly"
TASK_IDENTIFIER = "http://passerelle.example/task/payment-anomaly"
ANOMALIES = ("under-payment", "over-payment", "duplicate-payment", "late-payment", "unknown-claim")


@dataclass
class Line:
    index: int
    claim: str | None
    expected: Decimal | None
    paid: Decimal
    findings: list[str]


def reconcile(uow, reconciliation: dict, payment_days: int) -> list[Line]:
    """Match every detail; write a Task per anomaly not already flagged."""
    paid_on = reconciliation.get("paymentDate")
    lines = []
    for i, detail in enumerate(reconciliation.get("detail", [])):
        amount = Decimal(str((detail.get("amount") or {}).get("value", 0)))
        claim = _claim_of(uow, detail)
        if claim is None:
            lines.append(Line(i, None, None, amount, ["unknown-claim"]))
            continue
        claim_ref = f"Claim/{claim['id']}"
        responses = search(uow, "ClaimResponse", [("request", claim_ref)], limit=100)
        expected = None
        if responses:
            payment = (responses[-1].get("payment") or {}).get("amount") or {}
            expected = Decimal(str(payment["value"])) if payment.get("value") is not None else None
        findings = []
        if expected is not None and amount < expected:
            findings.append("under-payment")
        elif expected is not None and amount > expected:
            findings.append("over-payment")
        if _paid_elsewhere(uow, reconciliation, claim):
            findings.append("duplicate-payment")
        if paid_on and claim.get("created"):
            delay = parse_instant(paid_on, expression="PaymentReconciliation.paymentDate") - parse_instant(
                claim["created"], expression="Claim.created")
            if delay > timedelta(days=payment_days):
                findings.append("late-payment")
        lines.append(Line(i, claim_ref, expected, amount, findings or ["paid"]))
    for line in lines:
        for finding in line.findings:
            if finding in ANOMALIES:
                _flag(uow, reconciliation, line, finding)
    return lines


def _claim_of(uow, detail: dict) -> dict | None:
    request = detail.get("request") or {}
    if request.get("reference", "").startswith("Claim/") and uow.pid_of("Claim", request["reference"][6:]):
        return uow.read("Claim", request["reference"][6:]).resource()
    token = identifier_token(request.get("identifier"))
    if token:
        found = search(uow, "Claim", [("identifier", token)], limit=2)
        if len(found) == 1:
            return found[0]
    response = (detail.get("response") or {}).get("reference", "")
    if response.startswith("ClaimResponse/") and uow.pid_of("ClaimResponse", response[14:]):
        request_ref = uow.read("ClaimResponse", response[14:]).resource().get("request", {}).get("reference", "")
        if request_ref.startswith("Claim/") and uow.pid_of("Claim", request_ref[6:]):
            return uow.read("Claim", request_ref[6:]).resource()
    return None


def _paid_elsewhere(uow, reconciliation: dict, claim: dict) -> bool:
    """Another stored PaymentReconciliation has a detail for this claim."""
    identifiers = {(i.get("system"), i.get("value")) for i in claim.get("identifier", [])}
    for other in search(uow, "PaymentReconciliation", [("status", "active")], limit=5000):
        if other["id"] == reconciliation.get("id"):
            continue
        for detail in other.get("detail", []):
            request = detail.get("request") or {}
            if request.get("reference") == f"Claim/{claim['id']}":
                return True
            given = request.get("identifier") or {}
            if (given.get("system"), given.get("value")) in identifiers and given.get("value"):
                return True
    return False


def _flag(uow, reconciliation: dict, line: Line, finding: str) -> None:
    value = f"{reconciliation['id']}/{line.index}/{finding}"
    if search(uow, "Task", [("identifier", f"{TASK_IDENTIFIER}|{value}")], limit=1):
        return
    task = {
        "resourceType": "Task",
        "identifier": [{"system": TASK_IDENTIFIER, "value": value}],
        "status": "requested", "intent": "order", "priority": "routine",
        "code": {"coding": [{"system": ANOMALY, "code": finding}], "text": "Payment anomaly"},
        "description": _describe(line, finding),
        "focus": {"reference": f"PaymentReconciliation/{reconciliation['id']}"},
        "authoredOn": format_instant(to_aware(uow.now)),
        "reasonCode": {"coding": [{"system": ANOMALY, "code": finding}]},
    }
    if line.claim:
        task["input"] = [{"type": {"text": "Claim"}, "valueReference": {"reference": line.claim}}]
    uow.create(task)


def _describe(line: Line, finding: str) -> str:
    where = f"payment detail {line.index}"
    if finding in ("under-payment", "over-payment"):
        return f"{where}: paid {line.paid}, expected {line.expected} for {line.claim}"
    if finding == "unknown-claim":
        return f"{where}: paid {line.paid} for a claim not known here"
    return f"{where}: {finding.replace('-', ' ')} for {line.claim}"


def report(uow, payment_days: int) -> dict[str, list[str]]:
    """Claims (use ``claim``) by state: paid (a remittance detail names them), rejected
    (nothing payable in their answer), late (neither, older than ``payment_days``), open."""
    paid_refs, paid_ids = set(), set()
    for reconciliation in search(uow, "PaymentReconciliation", [("status", "active")], limit=5000):
        for detail in reconciliation.get("detail", []):
            request = detail.get("request") or {}
            if request.get("reference"):
                paid_refs.add(request["reference"])
            token = identifier_token(request.get("identifier"))
            if token:
                paid_ids.add(token)
    now = to_aware(uow.now)
    states: dict[str, list[str]] = {"open": [], "paid": [], "rejected": [], "late": []}
    for claim in search(uow, "Claim", [("use", "claim")], limit=5000):
        ref = f"Claim/{claim['id']}"
        tokens = {identifier_token(i) for i in claim.get("identifier", [])}
        if ref in paid_refs or tokens & paid_ids:
            states["paid"].append(ref)
            continue
        responses = search(uow, "ClaimResponse", [("request", ref)], limit=100)
        payable = (responses[-1].get("payment") or {}).get("amount", {}).get("value") if responses else None
        if payable is not None and Decimal(str(payable)) == 0:
            states["rejected"].append(ref)
        elif claim.get("created") and now - parse_instant(claim["created"], expression="Claim.created") > timedelta(
                days=payment_days):
            states["late"].append(ref)
        else:
            states["open"].append(ref)
    return states
