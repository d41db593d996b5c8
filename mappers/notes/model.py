"""What the notes pipeline finds: allergies and medications, each with where it was read."""

from __future__ import annotations

from dataclasses import dataclass, field

from terminology import lexicon

from .sig import Sig


@dataclass(frozen=True)
class Mention:
    """Where a finding was read: the exact characters of the source text."""

    start: int
    end: int
    text: str


@dataclass
class Allergy:
    concept: lexicon.Concept
    mention: Mention
    reactions: list[str] = field(default_factory=list)  # lexicon reaction keys
    severity: str | None = None  # mild | moderate | severe
    certainty: str = "confirmed"  # confirmed | possible (as the note words it)


@dataclass
class Medication:
    concept: lexicon.Concept
    mention: Mention
    sig: Sig
    status: str = "active"  # active | stopped (historical mention)


@dataclass
class Findings:
    language: str
    allergies: list[Allergy] = field(default_factory=list)
    medications: list[Medication] = field(default_factory=list)
