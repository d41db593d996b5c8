"""The medspaCy pipeline for one language: sentences, targets, sections, ConText.

Blank spaCy languages only (no model download). Target rules are generated from
``terminology.lexicon``; section and extra ConText rules are data in ``rules/``.
Tokens are compared by their ``norm`` (lower case, no accents), so "penicilline"
written without its accent still matches.
"""

from __future__ import annotations

import csv
import threading
import warnings
from pathlib import Path

import spacy
from loguru import logger
from medspacy.context import ConText, ConTextRule
from medspacy.custom_tokenizer import create_medspacy_tokenizer
from medspacy.section_detection import Sectionizer, SectionRule
from medspacy.sentence_splitting import PyRuSHSentencizer  # noqa: F401  (registers the factory)
from medspacy.target_matcher import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Span

from terminology import lexicon

RULES = Path(__file__).resolve().parent / "rules"
RESOURCES = Path(spacy.util.get_package_path("medspacy")).parent / "resources"
SPLITTERS = ("sentencizer", "pyrush")
DEFAULT_SPLITTER = "sentencizer"  # measured in tests/bench/notes.py: same findings, several times faster

SUBSTANCE, REACTION = "SUBSTANCE", "REACTION"
# ConText categories -> Span attributes; the French rules (FastConText) name two of them differently.
CONTEXT_ATTRIBUTES = {
    "NEGATED_EXISTENCE": {"is_negated": True},
    "POSSIBLE_EXISTENCE": {"is_uncertain": True},
    "UNCERTAIN": {"is_uncertain": True},
    "HISTORICAL": {"is_historical": True},
    "HYPOTHETICAL": {"is_hypothetical": True},
    "CONDITIONAL": {"is_hypothetical": True},
    "FAMILY": {"is_family": True},
    "ALLERGY": {"is_allergy": True},
}

logger.disable("PyRuSH")  # PyRuSH logs every token at DEBUG through loguru
# medspaCy runs an empty token Matcher beside the phrase rules; spaCy warns about it on every note.
warnings.filterwarnings("ignore", message=r"\[W036\]")
for _attr in {a for attrs in CONTEXT_ATTRIBUTES.values() for a in attrs}:
    if not Span.has_extension(_attr):
        Span.set_extension(_attr, default=False)
if not Span.has_extension("concept"):
    Span.set_extension("concept", default=None)


class PlainNormTokenizer:
    """medspaCy's tokenizer, then ``norm`` = lower case without accents (rules match on it)."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, text: str):
        doc = self.inner(text)
        for token in doc:
            token.norm_ = lexicon.plain(token.text)
        return doc

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)


@Language.component("passerelle_line_breaks")
def line_breaks(doc):
    """A line break ends a sentence (lists, headers); spaCy's sentencizer then splits on punctuation."""
    for i, token in enumerate(doc[:-1]):
        if "\n" in token.text or "\n" in token.whitespace_:
            doc[i + 1].is_sent_start = True
    return doc


def build(language: str, splitter: str = DEFAULT_SPLITTER, *, targets: bool = True) -> Language:
    """A new pipeline; ``targets=False`` leaves the target rules out (the bare medspaCy baseline adds its own)."""
    if language not in lexicon.LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(lexicon.LANGUAGES)}, not {language!r}")
    if splitter not in SPLITTERS:
        raise ValueError(f"splitter must be one of {', '.join(SPLITTERS)}")
    nlp = spacy.blank(language)
    nlp.tokenizer = PlainNormTokenizer(create_medspacy_tokenizer(nlp))
    if splitter == "pyrush":
        nlp.add_pipe("medspacy_pyrush", config={"rules_path": str(RESOURCES / language / "rush_rules.tsv")})
    else:
        nlp.add_pipe("passerelle_line_breaks")
        nlp.add_pipe("sentencizer")
    matcher: TargetMatcher = nlp.add_pipe("medspacy_target_matcher", config={"phrase_matcher_attr": "NORM"})
    if targets:
        from . import misspellings  # noqa: F401  (registers the factory; it imports this module)

        matcher.add(target_rules(language))
        nlp.add_pipe("passerelle_misspellings", config={"language": language})
    sectionizer: Sectionizer = nlp.add_pipe("medspacy_sectionizer", config={
        "rules": None, "phrase_matcher_attr": "NORM", "span_attrs": None})
    sectionizer.add(section_rules(language))
    context: ConText = nlp.add_pipe("medspacy_context", config={
        "rules": None, "phrase_matcher_attr": "NORM", "span_attrs": CONTEXT_ATTRIBUTES})
    context.add(medspacy_context_rules(language) + context_rules(language) + context_pattern_rules(language))
    return nlp


_shared: dict[tuple[str, str], Language] = {}
_building = threading.Lock()


def shared(language: str, splitter: str = DEFAULT_SPLITTER) -> Language:
    """The shared pipeline of a language, built once per process (the French ConText rules
    take seconds); server threads that ask at the same time wait for the one build."""
    key = (language, splitter)
    if key not in _shared:
        with _building:
            if key not in _shared:
                _shared[key] = build(language, splitter)
    return _shared[key]


def target_rules(language: str) -> list[TargetRule]:
    lex = lexicon.load()
    rules = [TargetRule(form, SUBSTANCE, attributes={"concept": concept_id})
             for form, concept_id in lex.forms(language)]
    for term in lex.reactions.values():
        rules += [TargetRule(lexicon.plain(form), REACTION, attributes={"concept": term.key})
                  for form in term.forms[language]]
    return rules


def section_rules(language: str) -> list[SectionRule]:
    return [SectionRule(literal, category) for lang, category, literal in _tsv(RULES / "sections.tsv", 3)
            if lang == language]


def medspacy_context_rules(language: str) -> list[ConTextRule]:
    """medspaCy's ConText rules for the language, less those ``context_<lang>_exclude.tsv`` lists."""
    exclude_path = RULES / f"context_{language}_exclude.tsv"
    excluded = {(lexicon.plain(lit), cat) for lit, cat in _tsv(exclude_path, 2)} if exclude_path.exists() else set()
    return [rule for rule in ConTextRule.from_json(str(RESOURCES / language / "context_rules.json"))
            if (lexicon.plain(rule.literal), rule.category) not in excluded]


def context_rules(language: str) -> list[ConTextRule]:
    return [ConTextRule(literal, category, direction=direction)
            for literal, category, direction in _tsv(RULES / f"context_{language}.tsv", 3)]


def context_pattern_rules(language: str) -> list[ConTextRule]:
    """Rules that need a token pattern ("but … stopped it"), in medspaCy's JSON format."""
    path = RULES / f"context_{language}_patterns.json"
    return ConTextRule.from_json(str(path)) if path.exists() else []


def _tsv(path: Path, columns: int) -> list[list[str]]:
    with path.open(encoding="utf-8") as f:
        rows = [row for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]
    for row in rows:
        if len(row) != columns:
            raise ValueError(f"{path.name}: {row!r} should have {columns} columns")
    return rows
