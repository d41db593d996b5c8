"""FHIR operations: one module each, registered in ``registry.OPERATIONS`` on import."""

from . import meta, reindex, validate  # noqa: F401  (registration happens on import)
from .registry import OPERATIONS

__all__ = ["OPERATIONS"]
