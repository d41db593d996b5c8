"""Findings (server.alerts.detect) as CDS Hooks 2.0 cards.

Severity -> indicator: high -> critical, moderate -> warning, low -> info. A card's uuid
is the id of the DetectedIssue the same finding has (or will have) in the store, so that
feedback on the card lands on that alert. Cards about an order being written suggest
removing it; every card offers override reasons.
"""

from __future__ import annotations

import uuid

from server.alerts.detect import Finding
from server.alerts.issues import ACT_CODE, DISPLAY, issue_id

INDICATOR = {"high": "critical", "moderate": "warning", "low": "info"}
OVERRIDE_SYSTEM = "urn:passerelle:cds-override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "benefit-outweighs-risk", "display": "Benefit outweighs the risk"},
    {"system": OVERRIDE_SYSTEM, "code": "tolerated-before", "display": "Patient has tolerated this before"},
    {"system": OVERRIDE_SYSTEM, "code": "monitored", "display": "Will monitor the patient"},
    {"system": OVERRIDE_SYSTEM, "code": "not-applicable", "display": "Alert does not apply to this patient"},
]


def card(finding: Finding, orders: dict[str, str]) -> dict:
    """``orders``: references of the orders being written -> their labels."""
    source = finding.source
    out = {
        "uuid": issue_id(finding.key),
        "summary": finding.summary,
        "detail": finding.detail,
        "indicator": INDICATOR[finding.severity],
        "source": {"label": f"{source.title} ({source.edition})",
                   "topic": {"system": ACT_CODE, "code": finding.code, "display": DISPLAY[finding.code]}},
        "overrideReasons": OVERRIDE_REASONS,
    }
    if source.url:
        out["source"]["url"] = source.url
    removable = [ref for ref in finding.implicated if ref in orders]
    if removable:
        out["selectionBehavior"] = "at-most-one"
        out["suggestions"] = [{
            "label": f"Remove {orders[ref]} from the order",
            "uuid": str(uuid.uuid5(uuid.UUID(out["uuid"]), ref)),
            "isRecommended": finding.severity == "high",
            "actions": [{"type": "delete", "description": f"Remove the draft order {ref}", "resourceId": [ref]}],
        } for ref in removable]
    return out
