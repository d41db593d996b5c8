"""Clinical notes -> allergies and medications (medspaCy, English and French).

    from mappers import notes
    found = notes.extract("Allergies : pénicilline (urticaire).", "fr")
    found.allergies[0].concept.codings, found.allergies[0].reactions   # [...], ["urticaria"]
    bundle = notes.to_bundle(found, notes.Source("2026-12-02T10:00:00Z", document=..., subject="Patient/1"))

Pure: text in, findings and FHIR resources out (no database, no clock, no random ids).
spaCy and the rules load on the first ``extract`` of a language (seconds for French),
not on import.
"""

from __future__ import annotations

from .fhir import Source, to_bundle, to_resources
from .model import Allergy, Findings, Medication, Mention

LANGUAGES = ("en", "fr")


def extract(text: str, language: str, *, splitter: str | None = None) -> Findings:
    """The allergies and medications a note states about its patient."""
    from .findings import read
    from .pipeline import DEFAULT_SPLITTER, shared

    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return read(shared(language, splitter or DEFAULT_SPLITTER)(text), language)


def warm(language: str) -> None:
    """Build a language's pipeline now (a server does it at start-up, not on the first note)."""
    from .pipeline import DEFAULT_SPLITTER, shared

    shared(language, DEFAULT_SPLITTER)


__all__ = ["Allergy", "Findings", "LANGUAGES", "Medication", "Mention", "Source", "extract", "to_bundle",
           "to_resources", "warm"]
