"""Building CDS Hooks requests and filling the store of the test server over FHIR REST."""

from __future__ import annotations

import uuid


def request(hook: str, patient_id: str, *, prefetch: dict | None = None, drafts: list[dict] = (),
            selections: list[str] | None = None) -> dict:
    context: dict = {"userId": "Practitioner/dr-1", "patientId": patient_id}
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = bundle(drafts)
    if hook == "order-select":
        context["selections"] = selections if selections is not None else [
            f"{d['resourceType']}/{d['id']}" for d in drafts]
    body = {"hookInstance": str(uuid.uuid4()), "hook": hook, "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def bundle(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def draft(resource: dict, fhir_id: str) -> dict:
    return {**resource, "id": fhir_id, "status": "draft"}


def store(client, resource: dict) -> dict:
    r = client.post(f"/fhir/{resource['resourceType']}", json=resource)
    assert r.status_code == 201, r.text
    return r.json()
