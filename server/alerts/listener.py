"""The store listener that keeps each patient's DetectedIssues in step with the record.

Every ingest path writes through a UnitOfWork, so one listener sees them all. While a
unit of work writes a MedicationRequest, MedicationStatement or AllergyIntolerance
(or deletes one), the listener notes its patient; once the transaction is committed it
re-checks those patients in a transaction of its own:

- the patient's medications, allergies and existing alerts are read through the search
  service (``find_ids``) and the unit of work;
- each finding (server.alerts.detect) has one DetectedIssue with a stable id: created
  when new, updated when what it says changed, left alone otherwise (a re-save makes no
  duplicate and no new version);
- an alert whose conflict is gone (medication stopped, allergy refuted or deleted) is
  cancelled, not deleted: it stays in the record; one a clinician marked
  entered-in-error is left as it is.
- a record written with an id (an update, perhaps to another patient) also has the
  patients of the alerts implicating it re-checked, so a misfiled order moved to the
  right patient leaves no live alert on the wrong one.

This is system work, run with internal access: an alert must see every allergy of the
patient, whatever the scopes of whoever saved the order. A failure is logged (ids only)
and never undoes the write that triggered it.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field


from terminology import knowledge
from terminology.knowledge import KnowledgeBase

from ..authz.access import INTERNAL, acting_as
from ..errors import Conflict, FhirError
from ..search.service import find_ids
from ..storage.repository import format_instant
from .detect import detect
from .facts import ALLERGY_TYPE, MEDICATION_TYPES, allergy, medication, patient_id
from .issues import alert_key, detected_issue, issue_id, same
from .records import MAX_RECORDS, checked_records, current_versions, read, versions

log = logging.getLogger("passerelle.alerts")

WATCHED = frozenset((*MEDICATION_TYPES, ALLERGY_TYPE))
ALERT_TYPE = "DetectedIssue"
CHECKED_TYPES = (*MEDICATION_TYPES, ALLERGY_TYPE, ALERT_TYPE)
LOOKUP_CHUNK = 100  # references per implicated= search


@dataclass
class _Pending:
    """What one unit of work wrote that the alerts depend on."""

    patients: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)  # updated records: their alerts' patients too


class AlertListener:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self._pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # uow -> patients to re-check
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> AlertListener:
        return cls(knowledge.load(settings.knowledge_dir or None))

    # -- StoreListener -------------------------------------------------------------------

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type not in WATCHED:
            return
        if resource is None:  # a delete: its patient is in the version being replaced
            try:
                resource = uow.read(resource_type, fhir_id).resource()
            except FhirError:
                return
        patient = patient_id(resource)
        # A body with an id may be an update that moved the record to another patient:
        # the alerts that implicate it are looked up after commit (see _recheck).
        maybe_moved = "id" in resource
        if patient is None and not maybe_moved:
            return
        with self._lock:  # units of work run on many threads; the weak map is not thread-safe
            pending = self._pending.get(uow)
            if pending is None:
                pending = self._pending[uow] = _Pending()
                store = uow.store
                uow.after_commit.append(lambda: self._recheck(store, pending))
            if patient is not None:
                pending.patients.add(patient)
            if maybe_moved:
                pending.records.add(f"{resource_type}/{fhir_id}")

    # -- after commit --------------------------------------------------------------------

    def _recheck(self, store, pending: _Pending) -> None:
        with acting_as(INTERNAL):
            patients = set(pending.patients)
            try:
                patients |= alerted_patients(store, pending.records)
            except Exception:  # noqa: BLE001 - as below
                log.exception("alert look-up failed for %d updated records", len(pending.records))
            for patient in sorted(patients):
                try:
                    self.recheck(store, patient)
                except Exception:  # noqa: BLE001 - the triggering write is committed; say so and go on
                    log.exception("alert check failed for Patient/%s", patient)

    def recheck(self, store, patient: str) -> dict[str, int]:
        """Bring the patient's alerts up to date; counts of created, updated, cancelled.

        Looked at in a read transaction first: most re-checks change nothing and need no
        write lock. Inside the write transaction the changes found are applied as they
        are if the records they rest on are still the same versions (one query on the
        resource table), and worked out again otherwise."""
        with store.read() as uow:
            planned, seen = changes(uow, self.kb, patient)
            if not planned:
                return apply(uow, patient, [])
        for attempt in (1, 2, 3):
            try:
                with store.write() as uow:
                    # One re-check of a patient at a time: concurrent writes for one patient
                    # would otherwise race to create the same alert.
                    uow.lock([f"alerts:{patient}"])
                    if current_versions(uow, patient, CHECKED_TYPES) != seen:
                        planned, seen = changes(uow, self.kb, patient)
                    return apply(uow, patient, planned)
            except Conflict:
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")


def alerted_patients(store, records: set[str]) -> set[str]:
    """Patients with an alert implicating one of these records (a record moved to another
    patient leaves its alerts on the first one, who must be re-checked)."""
    found: set[str] = set()
    refs = sorted(records)
    with store.read() as uow:
        for start in range(0, len(refs), LOOKUP_CHUNK):
            params = [("implicated", ",".join(refs[start:start + LOOKUP_CHUNK]))]
            ids = find_ids(uow, ALERT_TYPE, params, strict=True, limit=MAX_RECORDS)
            found |= {p for stored in uow.read_many([pid for _, pid in ids])
                      if (p := patient_id(stored.resource()))}
    return found


def changes(uow, kb: KnowledgeBase, patient: str) -> tuple[list[tuple[str, str, dict]], frozenset]:
    """(created | updated | cancelled, DetectedIssue id, content) that make the alerts current,
    and the versions of the records they were worked out from."""
    found = checked_records(uow, patient, CHECKED_TYPES)
    meds = [m for t in MEDICATION_TYPES for r in found[t] if (m := medication(kb, r, lambda ref: read(uow, ref)))]
    allergies = [a for r in found[ALLERGY_TYPE] if (a := allergy(kb, r))]
    existing = {key: r for r in found[ALERT_TYPE] if (key := alert_key(r))}
    out = []
    now = format_instant(uow.now)
    for finding in detect(kb, meds, allergies):
        stored = existing.pop(finding.key, None)
        wanted = detected_issue(finding, patient, now)
        if stored is None:
            out.append(("created", issue_id(finding.key), wanted))
        elif stored.get("status") != "entered-in-error" and not same(stored, wanted):  # a clinician's verdict stays
            wanted["identifiedDateTime"] = stored.get("identifiedDateTime", now)
            if stored.get("mitigation"):  # what clinicians did about it (CDS feedback) stays
                wanted["mitigation"] = stored["mitigation"]
            out.append(("updated", stored["id"], wanted))
    for stored in existing.values():
        if stored.get("status") not in ("cancelled", "entered-in-error"):
            out.append(("cancelled", stored["id"], {**_content(stored), "status": "cancelled"}))
    return out, versions(found)


def apply(uow, patient: str, planned: list[tuple[str, str, dict]]) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "cancelled": 0}
    for kind, fhir_id, content in planned:
        uow.update(content, fhir_id)  # update-as-create for a new one: its id is the finding's
        counts[kind] += 1
    if planned:
        log.info("alerts for Patient/%s: %s", patient, counts)
    return counts


def _content(stored: dict) -> dict:
    return {k: v for k, v in stored.items() if k not in ("id", "meta")}
