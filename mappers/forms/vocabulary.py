"""Allergen and drug names read on a form, looked up in the knowledge base (``terminology.knowledge``).

A name the knowledge base does not know is not stored: the field goes to review.
"""

from __future__ import annotations

from dataclasses import dataclass
from terminology import knowledge
from terminology.knowledge import fold

__all__ = ["Concept", "allergen", "drug", "fold"]


@dataclass(frozen=True)
class Concept:
    text: str  # the name as written on the form (CodeableConcept.text: what the person wrote)
    codings: tuple[dict, ...]  # FHIR Codings (RxNorm, ATC); none for a class


def _knowledge() -> knowledge.KnowledgeBase:
    return knowledge.load()  # cached by terminology.knowledge


def drug(name: str) -> Concept | None:
    substance = _knowledge().substance(name)
    return Concept(" ".join(name.split()), tuple(substance.codings())) if substance else None


def allergen(name: str) -> Concept | None:
    """A substance, or a class of them ("pénicillines", "NSAIDs")."""
    found = drug(name)
    if found is not None:
        return found
    group = _knowledge().allergen_class(name)
    return Concept(" ".join(name.split()), ()) if group else None
