"""KnowledgeBase: look substances and classes up, and ask about interactions and allergies."""

from __future__ import annotations

from terminology.knowledge.allergy import allergy_risks
from terminology.knowledge.model import (ALLERGEN_CLASS, ATC, RXNORM, SUBSTANCE, AllergenClass, AllergyRisk,
                                         CrossReactivity, Interaction, Source, Substance, severity_rank)
from terminology.knowledge.text import NameIndex, fold

MIN_TEXT_NAME = 3  # shortest name looked for in free text
Term = tuple[str, str]  # ("sub", substance key) or ("cls", folded ANSM class name)

_SYSTEMS = {RXNORM: "rxnorm", "rxnorm": "rxnorm", ATC: "atc", "atc": "atc"}


class KnowledgeBase:
    def __init__(self, *, sources: dict[str, Source], substances: dict[str, Substance],
                 classes: dict[str, AllergenClass], cross: list[CrossReactivity], allergen_source: Source,
                 interactions: dict[frozenset, list[Interaction]], atc_groups: dict[str, str] | None = None) -> None:
        self.sources = sources
        self.substances = substances
        self.allergen_classes = classes
        self.cross_reactivity = cross
        self.allergen_source = allergen_source
        self._interactions = interactions
        self.atc_groups = atc_groups or {}  # ATC group code -> English name (levels 1 to 4)
        self._term_cache: dict[str, frozenset[Term]] = {}
        self._names = NameIndex()
        self._class_names = NameIndex()
        self._codes: dict[tuple[str, str], Substance] = {}
        for s in substances.values():
            for name in s.names():
                self._names.add(name, s)
            for code in s.rxnorm:
                self._codes.setdefault(("rxnorm", code), s)
            for code in s.atc:
                self._codes.setdefault(("atc", code), s)
        for c in classes.values():
            for name in (*c.names(), c.id):
                self._class_names.add(name, c)
        self._anything = NameIndex()  # for free text: no two-letter names ("or", gold, is a word)
        for index in (self._names, self._class_names):
            for name in index.names():
                if len(name) >= MIN_TEXT_NAME:
                    for value in index.get(name):
                        self._anything.add(name, value)

    # --- look-up -------------------------------------------------------------------------

    def substance(self, name: str) -> Substance | None:
        """The substance with this name (French, English or synonym; case and accents ignored)."""
        found = self._names.get(name)
        return found[0] if found else None

    def by_code(self, system: str, code: str) -> Substance | None:
        """The substance with this RxNorm or ATC code (system: its FHIR URI, "rxnorm" or "atc"),
        or this key (system ``SUBSTANCE``)."""
        if system == SUBSTANCE:
            return self.substances.get(code)
        kind = _SYSTEMS.get(system)
        return self._codes.get((kind, code.strip())) if kind else None

    def coded(self, system: str, code: str) -> Substance | AllergenClass | None:
        """What a Coding names: a substance (``by_code``) or an allergen class (``ALLERGEN_CLASS``)."""
        if system == ALLERGEN_CLASS:
            return self.allergen_classes.get(code)
        return self.by_code(system, code)

    def allergen_class(self, name: str) -> AllergenClass | None:
        """The allergen class with this id or name ("penicillins", "pénicillines", "AINS")."""
        found = self._class_names.get(name)
        return found[0] if found else None

    def find(self, text: str) -> list[Substance | AllergenClass]:
        """Substances and allergen classes named in a text, in order, each once.

        Longest names win: "amoxicilline + acide clavulanique" is the combination, not
        amoxicillin; "Amoxicillin 500 MG Oral Capsule" is amoxicillin. Names shorter
        than three letters are not looked for ("or", gold salts, is a common word).
        """
        out: list = []
        for _, values in self._anything.scan(text):
            for v in values[:1]:
                if v not in out:
                    out.append(v)
        return out

    def atc_path(self, code: str) -> list[tuple[str, str]]:
        """The ATC groups above a code, broadest first: "J01CA04" -> [("J", ...), ("J01", ...),
        ("J01C", "Beta-lactam antibacterials, penicillins"), ("J01CA", ...)] (known groups only)."""
        return [(p, self.atc_groups[p]) for p in (code[:1], code[:3], code[:4], code[:5])
                if len(p) < len(code) and p in self.atc_groups]

    def ingredients(self, substance: Substance) -> list[Substance]:
        """The single substances of a combination; a single substance is its own ingredient."""
        if not substance.ingredients:
            return [substance]
        return [self.substances[k] for k in substance.ingredients]

    # --- interactions --------------------------------------------------------------------

    def interactions(self, a: Substance, b: Substance) -> list[Interaction]:
        """What the sources say about taking ``a`` with ``b``, most serious first."""
        if a.key == b.key:
            return []
        found: dict[int, Interaction] = {}
        for ta in self._terms(a):
            for tb in self._terms(b):
                for i in self._interactions.get(frozenset((ta, tb)), ()):
                    found.setdefault(id(i), i)
        return sorted(found.values(), key=lambda i: (severity_rank(i.severity), i.source.id))

    def _terms(self, s: Substance) -> frozenset[Term]:
        """The substance and its ANSM classes (and those of its ingredients), as interaction terms."""
        terms = self._term_cache.get(s.key)
        if terms is None:
            terms = frozenset({("sub", s.key)} | {("cls", fold(c)) for c in s.ansm_classes}).union(
                *(self._terms(self.substances[part]) for part in s.ingredients))
            self._term_cache[s.key] = terms
        return terms

    # --- allergies -----------------------------------------------------------------------

    def classes_of(self, substance: Substance) -> set[str]:
        """Allergen class ids of a substance or of any of its ingredients."""
        ids = set(substance.allergen_classes)
        for part in substance.ingredients:
            ids |= self.substances[part].allergen_classes
        return ids

    def allergy_risks(self, allergen: Substance | AllergenClass, drug: Substance) -> list[AllergyRisk]:
        """Why an allergy to ``allergen`` concerns ``drug``, most serious first (empty: no known risk)."""
        return allergy_risks(self, allergen, drug)
