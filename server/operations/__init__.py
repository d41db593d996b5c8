"""FHIR operations: one module each, registered in ``registry.OPERATIONS`` on import."""

from . import meta, reindex, validate  # noqa: F401  (registration happens on import)
from . import inbox  # noqa: F401
from . import remittance, scheduling, submit  # noqa: F401  (coordination)
from . import everything, match, merge, mdm_review  # noqa: F401  (identity: server.mdm)
from . import forms  # noqa: F401  (scanned forms: server.forms)
from . import extract  # noqa: F401  (clinical notes: mappers.notes)
from ..subscriptions import operations as subscriptions  # noqa: F401  ($status, $events: server.subscriptions)
from .registry import OPERATIONS

__all__ = ["OPERATIONS"]
