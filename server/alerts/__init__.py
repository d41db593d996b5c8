"""Allergy and drug-interaction alerts, as DetectedIssue resources.

- ``facts``: FHIR medications and allergies -> substances and allergen classes;
- ``detect``: facts -> findings (pure; the CDS Hooks services use it too);
- ``issues``: findings -> DetectedIssue resources;
- ``listener``: the store listener that keeps each patient's DetectedIssues current.

Knowledge comes from ``terminology.knowledge`` (``PASSERELLE_KNOWLEDGE_DIR``).
"""

from .listener import AlertListener

__all__ = ["AlertListener"]
