"""CDS Hooks feedback: what the clinician did with a card, kept on its DetectedIssue.

A card's uuid is the id of its finding's DetectedIssue (server.alerts.issues.issue_id).
Each feedback item becomes a ``mitigation`` of that DetectedIssue (action text: accepted,
or overridden with the reason and comment; date: outcomeTimestamp). Feedback on a card
whose alert is not stored (an order that was never signed) is acknowledged and not kept.
Sending the same feedback twice adds nothing.
"""

from __future__ import annotations

from server.alerts.records import read
from server.authz.access import INTERNAL, acting_as

from .request import HookError

OUTCOMES = ("accepted", "overridden")


def parse(body) -> list[dict]:
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise HookError("feedback must be a non-empty list")
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("card"), str) or not item["card"]:
            raise HookError(f"feedback[{n}].card is required")
        if item.get("outcome") not in OUTCOMES:
            raise HookError(f"feedback[{n}].outcome must be one of {OUTCOMES}")
        if not isinstance(item.get("outcomeTimestamp"), str):
            raise HookError(f"feedback[{n}].outcomeTimestamp is required")
    return items


def mitigation(item: dict) -> dict:
    text = "CDS card accepted"
    if item["outcome"] == "overridden":
        override = item.get("overrideReason") or {}
        reason = (override.get("reason") or {}).get("display") or (override.get("reason") or {}).get("code")
        text = "CDS card overridden" + (f": {reason}" if reason else "")
        if override.get("userComment"):
            text += f" ({override['userComment']})"
    return {"action": {"text": text}, "date": item["outcomeTimestamp"]}


def record(ctx, items: list[dict]) -> int:
    """Store the feedback; how many items landed on a stored alert."""
    kept = 0
    with acting_as(INTERNAL), ctx.store.write() as uow:
        for item in items:
            issue = read(uow, f"DetectedIssue/{item['card']}")
            if issue is None:
                continue
            entry = mitigation(item)
            if entry not in (issue.get("mitigation") or []):
                issue["mitigation"] = [*(issue.get("mitigation") or []), entry]
                uow.update({k: v for k, v in issue.items() if k != "meta"}, issue["id"])
            kept += 1
    return kept
