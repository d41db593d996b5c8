"""The CDS services: allergy and interaction checks on the patient's record and orders.

The patient's medications and allergies come from the prefetch when the CDS client
sent them, else from the store (server.alerts.records); draft orders from the context.
Findings come from the same rules as the stored DetectedIssues (server.alerts.detect).
"""

from __future__ import annotations

from server.alerts import records
from server.alerts.detect import detect
from server.alerts.facts import ALLERGY_TYPE, MEDICATION_TYPES, allergy, medication, patient_id

from .cards import card
from .registry import PREFETCH_KEYS, service
from .request import HookRequest


def _facts(ctx, kb, req: HookRequest, drafts: tuple[dict, ...] = ()):
    """(medications, allergies) of the patient, draft orders included (they replace stored
    versions of the same order)."""
    prefetched = {t: req.prefetched(key) for t, key in PREFETCH_KEYS.items()}
    missing = tuple(t for t, found in prefetched.items() if found is None)
    mine = [r for r in drafts if patient_id(r) in (req.patient_id, None)]
    with ctx.store.read() as uow:
        if missing:  # what the client did not prefetch (or could not: null) is read from the store
            prefetched |= records.patient_records(uow, req.patient_id, missing)
        meds = [r for t in MEDICATION_TYPES for r in prefetched[t] if patient_id(r) == req.patient_id]
        allergies = [r for r in prefetched[ALLERGY_TYPE] if patient_id(r) == req.patient_id]
        drafted = {_ref(r) for r in mine}
        resources = [*mine, *(r for r in meds if _ref(r) not in drafted)]
        by_ref = _contained_medications(req)
        medications = [m for r in resources
                       if (m := medication(kb, r, lambda ref: by_ref.get(ref) or records.read(uow, ref)))]
    return medications, [a for r in allergies if (a := allergy(kb, r))]


def _contained_medications(req: HookRequest) -> dict[str, dict]:
    """Medication resources the client sent (prefetch or draft orders), by reference."""
    found = {}
    for key in req.prefetch:
        for r in req.prefetched(key) or ():
            if r.get("resourceType") == "Medication" and r.get("id"):
                found[f"Medication/{r['id']}"] = r
    for r in req.draft_orders:
        if r.get("resourceType") == "Medication":
            found[f"Medication/{r['id']}"] = r
    return found


def _ref(resource: dict) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


@service("passerelle-patient-alerts", "patient-view", "Allergy and interaction alerts",
         "Allergy conflicts (with class cross-reactivity) and drug-drug interactions among the "
         "patient's current medications (ANSM thesaurus, ONC high-priority list).")
def patient_view(ctx, kb, req: HookRequest) -> list[dict]:
    meds, allergies = _facts(ctx, kb, req)
    return [card(f, {}) for f in detect(kb, meds, allergies)]


def _order_check(ctx, kb, req: HookRequest, checked: set[str]) -> list[dict]:
    meds, allergies = _facts(ctx, kb, req, req.draft_orders)
    labels = {m.ref: m.label for m in meds if m.ref in {_ref(r) for r in req.draft_orders}}
    return [card(f, labels) for f in detect(kb, meds, allergies, only=checked)]


@service("passerelle-order-select-check", "order-select", "Allergy and interaction check of selected orders",
         "Checks the medications just selected against the patient's allergies and current medications.")
def order_select(ctx, kb, req: HookRequest) -> list[dict]:
    return _order_check(ctx, kb, req, set(req.selections))


@service("passerelle-order-sign-check", "order-sign", "Allergy and interaction check before signing",
         "Checks every draft medication order against the patient's allergies, current medications "
         "and the other draft orders.")
def order_sign(ctx, kb, req: HookRequest) -> list[dict]:
    return _order_check(ctx, kb, req, {_ref(r) for r in req.draft_orders})
