"""What is wrong with one patient's medications: allergy conflicts and interactions.

Pure: facts in (server.alerts.facts), findings out. The store listener turns findings
into DetectedIssues; the CDS Hooks services turn them into cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from terminology.knowledge import Interaction, KnowledgeBase, Source, severity_rank

from .facts import Allergy, Medication

ALLERGY_ALERT, INTERACTION_ALERT = "ALGY", "DRG"  # v3 ActCode


@dataclass(frozen=True)
class Evidence:
    source: Source
    text: str              # what this source says (level, mechanism, advice / reason)


@dataclass(frozen=True)
class Finding:
    code: str                       # ALGY | DRG
    severity: str                   # high | moderate | low
    implicated: tuple[str, ...]     # references: the medication(s), then the allergy
    summary: str                    # one line, under 140 characters (a CDS card summary)
    detail: str
    evidence: tuple[Evidence, ...]  # the most serious first; [0].source is the finding's source
    preliminary: bool = False       # rests on an unconfirmed allergy

    @property
    def key(self) -> str:
        """Stable identity: the same conflict between the same records is one finding."""
        refs = self.implicated if self.code == ALLERGY_ALERT else tuple(sorted(self.implicated))
        return "|".join((self.code, *refs))

    @property
    def source(self) -> Source:
        return self.evidence[0].source


def detect(kb: KnowledgeBase, medications: list[Medication], allergies: list[Allergy],
           *, only: set[str] | None = None) -> list[Finding]:
    """Findings among these facts, most serious first. ``only``: keep findings that
    implicate at least one of these references (the orders being checked)."""
    findings = [f for m in medications for a in allergies if (f := allergy_finding(kb, m, a))]
    findings += [f for m1, m2 in combinations(medications, 2) if (f := interaction_finding(kb, m1, m2))]
    if only is not None:
        findings = [f for f in findings if only & set(f.implicated)]
    return sorted(findings, key=lambda f: (severity_rank(f.severity), f.key))


def allergy_finding(kb: KnowledgeBase, med: Medication, allergy: Allergy) -> Finding | None:
    risks = sorted({(r.severity, r.reason): r for allergen in allergy.allergens for drug in med.substances
                    for r in kb.allergy_risks(allergen, drug)}.values(), key=lambda r: severity_rank(r.severity))
    if not risks:
        return None
    top = risks[0]
    reasons = "; ".join(dict.fromkeys(r.reason for r in risks))
    possible = "possible " if top.severity == "low" else ""
    summary = _short(f"{med.label}: {possible}conflict with allergy to {allergy.label}")
    detail = f"{med.label} ({med.ref}) and the recorded allergy to {allergy.label} ({allergy.ref}): {reasons}."
    if allergy.unconfirmed:
        detail += " The allergy is not confirmed."
    return Finding(ALLERGY_ALERT, top.severity, (med.ref, allergy.ref), summary, detail,
                   (Evidence(top.source, reasons),), preliminary=allergy.unconfirmed)


def interaction_finding(kb: KnowledgeBase, m1: Medication, m2: Medication) -> Finding | None:
    if m1.ref == m2.ref:
        return None
    found: dict[tuple, Interaction] = {}
    for a in m1.substances:
        for b in m2.substances:
            for i in kb.interactions(a, b):
                found.setdefault((i.source.id, i.between, i.level), i)
    if not found:
        return None
    ranked = sorted(found.values(), key=lambda i: (severity_rank(i.severity), i.source.id))
    top = ranked[0]
    evidence = tuple(Evidence(i.source, _statement(i)) for i in ranked)
    summary = _short(f"Interaction: {m1.label} + {m2.label} ({top.level})")
    detail = f"{m1.label} ({m1.ref}) with {m2.label} ({m2.ref}). " + " ".join(
        f"{e.text} [{e.source.citation or e.source.title}, edition {e.source.edition}]" for e in evidence)
    return Finding(INTERACTION_ALERT, top.severity, (m1.ref, m2.ref), summary, detail, evidence)


def _statement(i: Interaction) -> str:
    parts = [f"{i.between[0]} + {i.between[1]}: {i.level}.", i.mechanism, i.advice]
    return " ".join(p for p in parts if p)


def _short(text: str, limit: int = 139) -> str:  # CDS Hooks: a summary is under 140 characters
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
