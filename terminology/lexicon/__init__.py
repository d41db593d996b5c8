"""Surface forms of substances, allergens, reactions and routes in French and English.

    from terminology import lexicon
    lex = lexicon.load()                       # cached
    lex.concepts["sub:amoxicilline"].codings   # RxNorm / ATC from the knowledge base
    lex.forms("fr")                            # [(plain form, concept id)] for the target rules
    lex.lookup("Augmentin")                    # the Concept, any language, case and accents ignored
    lex.reactions["urticaria"].forms["fr"]     # ["urticaire"]

The language side of the clinical NLP (``mappers/notes``): each form points to a
substance or allergen class of the knowledge base (``terminology.knowledge``), or to a
concept of our own (``data/concepts.tsv``: SNOMED CT allergens, ATC codes the knowledge
base lacks). The knowledge base's own names are forms of every language. Nothing here
is a rule: the NLP generates its target rules from these tables.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from terminology import knowledge
from terminology.knowledge import ATC, RXNORM, fold

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "fr")
SNOMED = "http://snomed.info/sct"
ALLERGEN_CLASS = "urn:passerelle:knowledge:allergen-class"  # terminology.knowledge allergen class ids
_SYSTEMS = {ATC: "atc", RXNORM: "rxnorm"}


def plain(text: str) -> str:
    """Lower case without accents, punctuation kept: how the NLP compares tokens."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'").lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe").replace("æ", "ae")


class LexiconError(ValueError):
    """A lexicon file is wrong; the message names the file and line."""


@dataclass(eq=False)
class Concept:
    """What a form names: a substance, or a class of them (penicillins, NSAIDs)."""

    id: str  # "sub:<kb key>", "cls:<kb class id>" or "own:<id>"
    kind: str  # "substance" | "class"
    category: str  # AllergyIntolerance.category: medication | food | environment | biologic
    display: str  # English display
    codings: list[dict] = field(default_factory=list)

    @property
    def is_drug(self) -> bool:
        return self.category in ("medication", "biologic")

    def __repr__(self) -> str:
        return f"Concept({self.id!r})"


@dataclass(frozen=True)
class Term:
    """A coded term with its forms per language (reaction manifestations, routes)."""

    key: str
    code: str
    display: str
    forms: dict[str, tuple[str, ...]]

    def coding(self) -> dict:
        return {"system": SNOMED, "code": self.code, "display": self.display}


class Lexicon:
    def __init__(self, concepts: dict[str, Concept], forms: dict[str, dict[str, str]],
                 reactions: dict[str, Term], routes: dict[str, Term]):
        self.concepts = concepts
        self._forms = forms  # language -> plain form -> concept id
        self.reactions = reactions
        self.routes = routes
        self._any: dict[str, str] = {}
        for language in LANGUAGES:
            for form, concept_id in forms[language].items():
                self._any.setdefault(fold(form), concept_id)

    def forms(self, language: str) -> list[tuple[str, str]]:
        """(plain form, concept id) pairs recognised in notes of ``language``."""
        return list(self._forms[language].items())

    def lookup(self, name: str) -> Concept | None:
        concept_id = self._any.get(fold(name))
        return self.concepts.get(concept_id) if concept_id else None


def load(directory: str | Path | None = None) -> Lexicon:
    """The lexicon of ``directory`` (default: the bundled ``data/``), built once per directory."""
    return _load(str(Path(directory or DATA).resolve()))


@cache
def _load(directory: str) -> Lexicon:
    data = Path(directory)
    kb = knowledge.load()
    concepts: dict[str, Concept] = {}
    own = _own_concepts(kb, concepts, data / "concepts.tsv")
    forms: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    # The knowledge base's names first: every language reads drug names in both.
    for s in kb.substances.values():
        concept = _substance(concepts, s)
        for name in s.names():
            for language in LANGUAGES:
                forms[language].setdefault(plain(name), concept.id)
    for c in kb.allergen_classes.values():
        concept = _class(concepts, c)
        for name in c.names():
            for language in LANGUAGES:
                forms[language].setdefault(plain(name), concept.id)
    for language in LANGUAGES:
        path = data / f"{language}.tsv"
        for line_no, ref, names in _rows(path, 2):
            concept = _resolve(kb, concepts, own, ref, f"{path.name}:{line_no}")
            for name in names.split("|"):
                if fold(name):
                    # The lexicon's own forms win over a knowledge-base name written the same.
                    forms[language][plain(name)] = concept.id
    for excluded in _excluded(data / "exclude.txt"):
        for language in LANGUAGES:
            forms[language].pop(excluded, None)
    return Lexicon(concepts, forms, _terms(data / "reactions.tsv"), _terms(data / "routes.tsv"))


def _rows(path: Path, columns: int):
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != columns or not all(c.strip() for c in cells):
            raise LexiconError(f"{path.name}:{line_no}: expected {columns} non-empty tab-separated columns")
        yield line_no, *cells


def _substance(concepts: dict[str, Concept], s) -> Concept:
    concept_id = f"sub:{s.key}"
    if concept_id not in concepts:
        concepts[concept_id] = Concept(concept_id, "substance", "medication", s.name_en, s.codings())
    return concepts[concept_id]


def _class(concepts: dict[str, Concept], c) -> Concept:
    concept_id = f"cls:{c.id}"
    if concept_id not in concepts:
        # The class id of the knowledge base is its code: the alert engine looks it up by it.
        coding = {"system": ALLERGEN_CLASS, "code": c.id, "display": c.name}
        concepts[concept_id] = Concept(concept_id, "class", "medication", c.name, [coding])
    return concepts[concept_id]


def _own_concepts(kb, concepts: dict[str, Concept], path: Path) -> dict[str, Concept]:
    """concepts.tsv: our own concepts, unless the knowledge base knows their code."""
    own: dict[str, Concept] = {}
    for line_no, key, kind, category, system, code, display in _rows(path, 6):
        if kind not in ("substance", "class") or category not in ("medication", "food", "environment", "biologic"):
            raise LexiconError(f"{path.name}:{line_no}: unknown kind {kind!r} or category {category!r}")
        known = kb.by_code(system, code) if system in _SYSTEMS else None
        if known is not None:
            own[key] = _substance(concepts, known)
            continue
        concept = Concept(f"own:{key}", kind, category, display, [{"system": system, "code": code, "display": display}])
        own[key] = concepts[concept.id] = concept
    return own


def _resolve(kb, concepts: dict[str, Concept], own: dict[str, Concept], ref: str, where: str) -> Concept:
    scheme, _, name = ref.partition(":")
    if scheme == "own" and name in own:
        return own[name]
    if scheme == "kb":
        substance = kb.substance(name)
        if substance is not None:
            return _substance(concepts, substance)
        allergen_class = kb.allergen_class(name)
        if allergen_class is not None:
            return _class(concepts, allergen_class)
    raise LexiconError(f"{where}: {ref!r} names nothing the knowledge base or concepts.tsv knows")


def _excluded(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [plain(line.strip()) for line in lines if line.strip() and not line.startswith("#")]


def _terms(path: Path) -> dict[str, Term]:
    terms = {}
    for _, key, code, display, english, french in _rows(path, 5):
        terms[key] = Term(key, code, display, {"en": tuple(english.split("|")), "fr": tuple(french.split("|"))})
    return terms
