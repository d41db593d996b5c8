"""A patient's medications, allergies and alerts, read through the search service.

One search for all the types wanted (``_type`` with the ``patient`` parameter they all
have), through ``find_ids`` and the unit of work: the paths the security layer filters
(the listener runs with internal access; CDS Hooks with its caller's).
"""

from __future__ import annotations

from ..errors import FhirError
from ..search.service import find_ids

MAX_RECORDS = 40000  # one patient's records of the types asked; past this the check is refused, not cut


def patient_records(uow, patient: str, types: tuple[str, ...]) -> dict[str, list[dict]]:
    """The patient's current resources of these types, by type, in creation order."""
    params = [("_type", ",".join(types)), ("patient", f"Patient/{patient}")]
    ids = find_ids(uow, None, params, strict=True, limit=MAX_RECORDS + 1)
    if len(ids) > MAX_RECORDS:
        raise RuntimeError(f"more than {MAX_RECORDS} records for Patient/{patient}: not checked")
    found: dict[str, list[dict]] = {t: [] for t in types}
    for stored in uow.read_many([pid for _, pid in ids]):
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
