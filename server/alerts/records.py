"""A patient's medications, allergies and alerts.

Two ways in:

- ``patient_records``: one search for all the types wanted (``_type`` with the ``patient``
  parameter they all have), through ``find_ids`` and the unit of work: the path the
  security layer filters, for callers with an access token of their own (CDS Hooks);
- ``checked_records``: the same records read straight from the reference index, for the
  alert listener, which runs with internal access after every medication or allergy
  write. Both match a stored ``Patient/<id>`` reference the same way (search's
  ``patient=Patient/<id>``); the direct read skips building and filtering a search,
  which was most of what a re-check cost (tests/bench/alerts-results.md).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, select

from ..errors import FhirError
from ..search.service import find_ids
from ..storage.models import IdxReference, Resource

MAX_RECORDS = 40000  # one patient's records of the types asked; past this the check is refused, not cut
PATIENT_PARAM = "patient"  # the search parameter every type read here has (MedicationRequest.patient, ...)


def patient_records(uow, patient: str, types: tuple[str, ...]) -> dict[str, list[dict]]:
    """The patient's current resources of these types, by type, in creation order (a search:
    the caller's access applies)."""
    params = [("_type", ",".join(types)), ("patient", f"Patient/{patient}")]
    ids = find_ids(uow, None, params, strict=True, limit=MAX_RECORDS + 1)
    return _by_type(uow, patient, types, [pid for _, pid in ids])


def checked_records(uow, patient: str, types: tuple[str, ...]) -> dict[str, list[dict]]:
    """The same as ``patient_records`` for system work only: no access filter."""
    statement = _referrers().params(types=list(types), patient=patient, limit=MAX_RECORDS + 1)
    return _by_type(uow, patient, types, uow.select_pids(statement))


def versions(found: dict[str, list[dict]]) -> frozenset[tuple[str, str, str]]:
    """(type, id, versionId) of records read by ``checked_records``: what a check was based on."""
    return frozenset((r["resourceType"], r["id"], str((r.get("meta") or {}).get("versionId")))
                     for records in found.values() for r in records)


def current_versions(uow, patient: str, types: tuple[str, ...]) -> frozenset[tuple[str, str, str]]:
    """The same set as ``versions(checked_records(...))``, from the resource table alone
    (no content read): whether anything changed since a check."""
    resource = Resource.__table__
    referrers = _referrers().params(types=list(types), patient=patient, limit=MAX_RECORDS + 1).subquery()
    uow.flush()
    rows = uow.conn.execute(select(resource.c.resource_type, resource.c.fhir_id, resource.c.version_id)
                            .where(resource.c.pid.in_(select(referrers.c.pid)), resource.c.deleted.is_(False)))
    return frozenset((t, i, str(v)) for t, i, v in rows)


@cache
def _referrers():
    """Pids of the resources of some types whose ``patient`` is Patient/<id>, oldest first
    (built once: bound parameters keep SQLAlchemy's compiled-statement cache warm)."""
    ref = IdxReference.__table__
    return (select(ref.c.pid).distinct()
            .where(ref.c.resource_type.in_(bindparam("types", expanding=True)), ref.c.param == PATIENT_PARAM,
                   ref.c.target_id == bindparam("patient"), ref.c.target_type == "Patient")
            .order_by(ref.c.pid).limit(bindparam("limit")))


def _by_type(uow, patient: str, types: tuple[str, ...], pids: list[int]) -> dict[str, list[dict]]:
    if len(pids) > MAX_RECORDS:
        raise RuntimeError(f"more than {MAX_RECORDS} records for Patient/{patient}: not checked")
    found: dict[str, list[dict]] = {t: [] for t in types}
    for stored in uow.read_many(pids):
        found[stored.resource_type].append(stored.resource())
    return found


def read(uow, reference: str) -> dict | None:
    """The resource a relative or absolute reference names, or None if it cannot be read."""
    parts = reference.rstrip("/").split("/")
    if len(parts) < 2:
        return None
    try:
        return uow.read(parts[-2], parts[-1]).resource()
    except FhirError:
        return None
