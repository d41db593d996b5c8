"""The annotated notes of ``corpus/`` and their scoring (used by the tests and the bench).

Gold names are resolved through ``terminology.lexicon`` (any language, any form), so a
gold line says "penicillin" and the system's concept is compared by identity.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from terminology import lexicon

CORPUS = Path(__file__).resolve().parent / "corpus"
CATEGORIES = ("allergy", "allergy.reaction", "allergy.severity", "allergy.certainty",
              "medication", "medication.strength", "medication.dose", "medication.route", "medication.frequency")


@dataclass
class Note:
    id: str
    language: str
    style: str
    text: str
    gold: dict[str, set] = field(default_factory=dict)  # category -> set of tuples

    @property
    def split(self) -> str:
        """Odd numbers are the development half (errors looked at), even numbers the held-out test half."""
        return "dev" if int(self.id.rsplit("-", 1)[1]) % 2 else "test"


class CorpusError(ValueError):
    pass


def load(language: str) -> list[Note]:
    path = CORPUS / f"{language}.txt"
    notes: list[Note] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("=== "):
            if line.strip() and not line.startswith("#"):
                raise CorpusError(f"{path.name}:{i + 1}: expected '=== id | style'")
            i += 1
            continue
        note_id, _, style = line[4:].partition(" | ")
        body, i = _until(lines, i + 1, "--- gold")
        gold_lines, i = _until(lines, i + 1, "=== ")
        note = Note(note_id.strip(), language, style.strip(), "\n".join(body) + "\n")
        note.gold = gold_sets([(n, g) for n, g in gold_lines if g.strip()], path.name)
        notes.append(note)
    return notes


def _until(lines: list[str], i: int, marker: str) -> tuple[list, int]:
    out = []
    while i < len(lines) and not lines[i].startswith(marker):
        out.append((i + 1, lines[i]) if marker == "=== " else lines[i])
        i += 1
    return out, i


def gold_sets(numbered: list[tuple[int, str]], where: str) -> dict[str, set]:
    lex = lexicon.load()
    sets: dict[str, set] = {c: set() for c in CATEGORIES}
    for line_no, line in numbered:
        kind, _, rest = line.partition(" ")
        name, *fields = [p.strip() for p in rest.split(";")]
        concept = lex.lookup(name)
        key = concept.id if concept else f"unknown:{name}"  # a name the lexicon lacks stays a miss
        attrs = dict(f.split("=", 1) for f in fields)
        if kind == "A":
            sets["allergy"].add((key,))
            sets["allergy.certainty"].add((key, attrs.get("certainty", "confirmed")))
            for reaction in filter(None, attrs.get("reaction", "").split(",")):
                sets["allergy.reaction"].add((key, reaction))
            if "severity" in attrs:
                sets["allergy.severity"].add((key, attrs["severity"]))
        elif kind == "M":
            status = attrs.get("status", "active")
            sets["medication"].add((key, status))
            for attr in ("strength", "dose", "route"):
                if attr in attrs:
                    sets[f"medication.{attr}"].add((key, attrs[attr]))
            if "freq" in attrs:
                sets["medication.frequency"].add((key, attrs["freq"]))
        else:
            raise CorpusError(f"{where}:{line_no}: gold lines start with A or M")
    return sets


def system_sets(found) -> dict[str, set]:
    sets: dict[str, set] = {c: set() for c in CATEGORIES}
    for a in found.allergies:
        key = a.concept.id
        sets["allergy"].add((key,))
        sets["allergy.certainty"].add((key, a.certainty))
        sets["allergy.reaction"] |= {(key, r) for r in a.reactions}
        if a.severity:
            sets["allergy.severity"].add((key, a.severity))
    for m in found.medications:
        key = m.concept.id
        sets["medication"].add((key, m.status))
        for attr in ("strength", "dose", "route", "frequency"):
            value = getattr(m.sig, attr)
            if value:
                sets[f"medication.{attr}"].add((key, value))
    return sets


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(pairs) -> dict[str, Score]:
    """pairs: (gold sets, system sets) per note -> Score per category (micro-averaged)."""
    totals = {c: Score() for c in CATEGORIES}
    for gold, system in pairs:
        for c in CATEGORIES:
            totals[c].tp += len(gold[c] & system[c])
            totals[c].fp += len(system[c] - gold[c])
            totals[c].fn += len(gold[c] - system[c])
    return totals


def errors(gold: dict[str, set], system: dict[str, set]) -> Counter:
    out = Counter()
    for c in CATEGORIES:
        for item in system[c] - gold[c]:
            out[("FP", c, item)] += 1
        for item in gold[c] - system[c]:
            out[("FN", c, item)] += 1
    return out
