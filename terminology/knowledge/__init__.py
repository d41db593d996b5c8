"""Drug and allergen knowledge as data: substances, allergen classes, interactions.

    from terminology import knowledge
    kb = knowledge.load()                      # cached; PASSERELLE_KNOWLEDGE_DIR or the bundled data/
    amox = kb.substance("amoxicilline")        # French, English or synonym; case and accents ignored
    amox.key, amox.name_fr, amox.names_en      # "amoxicilline", "amoxicilline", ["amoxicillin", ...]
    amox.rxnorm, amox.atc, amox.codings()      # ["723", ...], ["J01CA04"], FHIR Codings
    kb.atc_path("J01CA04")                     # [("J", "Antiinfectives for systemic use"), ... ("J01CA", ...)]
    kb.by_code(knowledge.RXNORM, "723")        # the same Substance (also "atc", ATC URI)
    kb.coded(knowledge.ALLERGEN_CLASS, "penicillins")  # a Coding's target: Substance or AllergenClass
    kb.allergen_class("pénicillines")          # AllergenClass: id, names_fr, names_en, members (keys)
    kb.find("Amoxicillin 500 MG Oral Capsule") # [Substance | AllergenClass] named in a text
    kb.allergy_risks(kb.allergen_class("penicillins"), amox)  # [AllergyRisk(severity, reason, ...)]
    kb.interactions(kb.substance("warfarine"), kb.substance("aspirine"))  # [Interaction]

Severities are those of DetectedIssue.severity: "high", "moderate", "low". Each
Interaction and AllergyRisk carries its ``source`` (id, title, edition, citation).

Iterate ``kb.substances.values()`` and ``kb.allergen_classes.values()`` for every surface
form (``.names()``), e.g. to build a lexicon. The directory layout and the formats a
newer edition may come in are described in ``data/README.md``; a broken directory
raises ``KnowledgeError`` naming the file.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from terminology.knowledge.base import KnowledgeBase
from terminology.knowledge.build import build
from terminology.knowledge.model import (ALLERGEN_CLASS, ATC, RXNORM, SEVERITIES, SUBSTANCE, AllergenClass,
                                         AllergyRisk, Interaction, Source, Substance, severity_rank)
from terminology.knowledge.readers import KnowledgeError
from terminology.knowledge.text import fold

DATA = Path(__file__).resolve().parent / "data"
ENV = "PASSERELLE_KNOWLEDGE_DIR"

__all__ = [
    "ALLERGEN_CLASS", "ATC", "DATA", "RXNORM", "SEVERITIES", "SUBSTANCE", "AllergenClass", "AllergyRisk",
    "Interaction", "KnowledgeBase", "KnowledgeError", "Source", "Substance", "fold", "load", "severity_rank",
]


def load(path: str | None = None) -> KnowledgeBase:
    """The knowledge base of ``path``, else of ``$PASSERELLE_KNOWLEDGE_DIR``, else the bundled one."""
    return _load(str(Path(path or os.environ.get(ENV) or DATA).resolve()))


@cache
def _load(directory: str) -> KnowledgeBase:
    return build(Path(directory))
