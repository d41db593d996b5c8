"""From FHIR resources to what the knowledge base understands.

A medication (MedicationRequest, MedicationStatement) becomes the substances it
contains; an allergy (AllergyIntolerance) the substances or allergen classes it names.
Codes first (RxNorm, ATC, the knowledge base's own substance and allergen-class
codes), then the words of the concept's text and displays, so that
"Amoxicillin 500 MG Oral Capsule" (an RxNorm product code the base does not hold) is
still amoxicillin, and "Allergy to penicillin" is the penicillin class.

Which resources count:
- a medication that is going on: MedicationRequest active / on-hold / draft (an order
  being written), MedicationStatement active / intended / on-hold;
- an allergy that is not refuted nor entered in error, nor inactive / resolved; an
  unconfirmed one (e.g. extracted from a note) counts, flagged as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from terminology.knowledge import AllergenClass, KnowledgeBase, Substance

MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")
ALLERGY_TYPE = "AllergyIntolerance"
ONGOING = {
    "MedicationRequest": {"active", "on-hold", "draft"},
    "MedicationStatement": {"active", "intended", "on-hold"},
}
NOT_AN_ALLERGY = {"refuted", "entered-in-error"}
PAST_ALLERGY = {"inactive", "resolved"}
UNCONFIRMED = {"unconfirmed", "presumed"}
_PATIENT = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")

# Reads a referenced resource ("Medication/12") or returns None when it cannot be had.
Resolver = Callable[[str], dict | None]


@dataclass(frozen=True)
class Medication:
    ref: str                    # "MedicationRequest/12"
    substances: tuple[Substance, ...]
    label: str                  # what the record calls it, for the clinician


@dataclass(frozen=True)
class Allergy:
    ref: str
    allergens: tuple[Substance | AllergenClass, ...]
    label: str
    unconfirmed: bool           # verificationStatus unconfirmed or presumed: a preliminary alert


def patient_id(resource: dict) -> str | None:
    """The id of the Patient a medication, allergy or alert is about (local or absolute reference)."""
    field = "patient" if resource.get("resourceType") in (ALLERGY_TYPE, "DetectedIssue") else "subject"
    match = _PATIENT.search(((resource.get(field) or {}).get("reference") or "").rstrip("/"))
    return match.group(1) if match else None


def ongoing(resource: dict) -> bool:
    return resource.get("status") in ONGOING.get(resource.get("resourceType"), ())


def medication(kb: KnowledgeBase, resource: dict, resolve: Resolver) -> Medication | None:
    """The substances of an ongoing medication (None: not ongoing, or nothing recognised)."""
    if not ongoing(resource):
        return None
    concepts = []
    if resource.get("medicationCodeableConcept"):
        concepts.append(resource["medicationCodeableConcept"])
    elif ref := (resource.get("medicationReference") or {}).get("reference"):
        med = _contained(resource, ref) if ref.startswith("#") else resolve(ref)
        if med:
            concepts.append(med.get("code") or {})
            concepts += [i.get("itemCodeableConcept") or {} for i in med.get("ingredient") or ()]
    substances = _unique(s for c in concepts for s in _named(kb, c) if isinstance(s, Substance))
    if not substances:
        return None
    label = _label(concepts[0]) or (resource.get("medicationReference") or {}).get("display") or substances[0].name_en
    return Medication(f"{resource['resourceType']}/{resource['id']}", substances, label)


def allergy(kb: KnowledgeBase, resource: dict) -> Allergy | None:
    """What an allergy is to (None: refuted, entered in error, past, or nothing recognised)."""
    verification = _code(resource.get("verificationStatus"))
    if verification in NOT_AN_ALLERGY or _code(resource.get("clinicalStatus")) in PAST_ALLERGY:
        return None
    concepts = [resource.get("code") or {}] + [r.get("substance") or {} for r in resource.get("reaction") or ()]
    allergens = _unique(a for c in concepts for a in _named(kb, c))
    if not allergens:
        return None
    label = _label(resource.get("code") or {}) or allergens[0].name
    return Allergy(f"{ALLERGY_TYPE}/{resource['id']}", allergens, label, verification in UNCONFIRMED)


def _named(kb: KnowledgeBase, concept: dict) -> list[Substance | AllergenClass]:
    """Coded substances if any coding is known, else what the text and displays name."""
    coded = [s for c in concept.get("coding") or () if c.get("code")
             for s in [kb.coded(c.get("system") or "", c["code"])] if s]
    if coded:
        return coded
    words = [concept.get("text") or ""] + [c.get("display") or "" for c in concept.get("coding") or ()]
    return [found for text in words if text for found in kb.find(text)]


def _contained(resource: dict, ref: str) -> dict | None:
    return next((c for c in resource.get("contained") or () if c.get("id") == ref[1:]), None)


def _code(concept: dict | None) -> str | None:
    return next((c.get("code") for c in (concept or {}).get("coding") or () if c.get("code")), None)


def _label(concept: dict) -> str:
    return concept.get("text") or next((c["display"] for c in concept.get("coding") or () if c.get("display")), "")


def _unique(items) -> tuple:
    seen: dict[int, object] = {}
    for item in items:
        seen.setdefault(id(item), item)
    return tuple(seen.values())
