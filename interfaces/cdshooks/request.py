"""A CDS Hooks 2.0 service request: checked, with its prefetch and draft orders.

A malformed request is a ``HookError`` (400) naming the field, never a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class HookError(Exception):
    def __init__(self, message: str, status: int = 400, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class HookRequest:
    hook: str
    hook_instance: str
    patient_id: str
    context: dict
    prefetch: dict = field(default_factory=dict)  # key -> resource or search Bundle (None: not fetched)
    draft_orders: tuple[dict, ...] = ()
    selections: tuple[str, ...] = ()

    def prefetched(self, key: str) -> list[dict] | None:
        """The resources prefetched under ``key``; None when the client sent nothing usable."""
        value = self.prefetch.get(key)
        if not isinstance(value, dict):
            return None
        if value.get("resourceType") == "Bundle":
            return [e["resource"] for e in value.get("entry") or () if isinstance(e.get("resource"), dict)]
        return [value]


def parse(body, hook: str) -> HookRequest:
    if not isinstance(body, dict):
        raise HookError("The request body must be a JSON object")
    if body.get("hook") != hook:
        raise HookError(f"This service answers the {hook!r} hook, not {body.get('hook')!r}")
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance:
        raise HookError("hookInstance is required")
    context = body.get("context")
    if not isinstance(context, dict):
        raise HookError("context is required")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise HookError("context.patientId is required")
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise HookError("prefetch must be an object")
    drafts: tuple[dict, ...] = ()
    selections: tuple[str, ...] = ()
    if hook in ("order-select", "order-sign"):
        drafts = _draft_orders(context)
    if hook == "order-select":
        selections = context.get("selections")
        if not isinstance(selections, list) or not selections or not all(isinstance(s, str) for s in selections):
            raise HookError("context.selections must list the selected orders (e.g. MedicationRequest/123)")
        selections = tuple(selections)
    return HookRequest(hook, instance, patient_id, context, prefetch, drafts, selections)


def _draft_orders(context: dict) -> tuple[dict, ...]:
    bundle = context.get("draftOrders")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise HookError("context.draftOrders must be a Bundle")
    orders = []
    for n, entry in enumerate(bundle.get("entry") or ()):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not resource.get("resourceType"):
            raise HookError(f"context.draftOrders entry {n} has no resource")
        if not resource.get("id"):
            raise HookError(f"context.draftOrders entry {n} ({resource['resourceType']}) has no id")
        orders.append(resource)
    return tuple(orders)
