"""A pipeline component that finds misspelled drug names the target rules missed.

"bisoprolo", "atorvastatn", "amlodipne": a word outside every entity, long enough to be
a drug name, within one edit (two for long words; a swap of two letters is one edit) of
a single-word form of the lexicon, with the same first letter. Short words are left
alone: too many ordinary words sit one edit away from a short drug name.
"""


from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from spacy.language import Language
from spacy.tokens import Doc, Span

from terminology import lexicon

from .pipeline import SUBSTANCE

MIN_LENGTH = 7


def allowed_edits(word: str) -> int:
    return 2 if len(word) >= 10 else 1


class Misspellings:
    def __init__(self, language: str):
        forms: dict[str, str] = {}
        for form, concept_id in lexicon.load().forms(language):
            if form.isalpha() and len(form) >= MIN_LENGTH - 1:
                forms.setdefault(form, concept_id)
        self._by_initial: dict[str, list[str]] = {}
        for form in forms:
            self._by_initial.setdefault(form[0], []).append(form)
        self._forms = forms
        self.closest = lru_cache(maxsize=20000)(self._closest)

    def _closest(self, word: str):
        if word in self._forms:
            return None  # an exact form the target rules chose not to match (excluded): leave it
        candidates = self._by_initial.get(word[0], ())
        found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=allowed_edits(word))
        return self._forms[found[0]] if found else None

    def __call__(self, doc: Doc) -> Doc:
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        added = []
        for token in doc:
            if token.i in taken or len(token.norm_) < MIN_LENGTH or not token.norm_.isalpha():
                continue
            concept_id = self.closest(token.norm_)
            if concept_id:
                span = Span(doc, token.i, token.i + 1, label=SUBSTANCE)
                span._.concept = concept_id
                added.append(span)
        if added:
            doc.ents = sorted([*doc.ents, *added], key=lambda s: s.start)
        return doc


@Language.factory("passerelle_misspellings", default_config={"language": "en"})
def make_misspellings(nlp: Language, name: str, language: str) -> Misspellings:
    return Misspellings(language)
