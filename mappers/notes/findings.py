"""From an annotated Doc to findings: the patient's allergies and medications.

A substance is an allergy when a ConText ALLERGY cue reaches it, when it sits in an
allergies section, when a reaction is written just before it as its cause ("rash after
amoxicillin"), or (for a food or environmental allergen) when its sentence names a
reaction. Otherwise a drug is a medication. Negated, family, hypothetical mentions are
left out; historical medications are kept as stopped; uncertain allergies are kept as
"possible". Reactions belong to the nearest allergy before them in the sentence (else
the next one); the sig is read from the words after the drug up to the next substance.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from spacy.tokens import Doc, Span

from terminology import lexicon

from . import sig
from .model import Allergy, Findings, Medication, Mention
from .pipeline import REACTION, SUBSTANCE


ALLERGY_SECTIONS = {"allergies"}
PAST_SECTIONS = {"past_medications"}
SCOPED_SECTIONS = ALLERGY_SECTIONS | PAST_SECTIONS
_LIST_ITEM = re.compile(r"\s*(?:[-*•·]|\d+[.)]|[a-z][.)])\s")
_CLAUSE_BREAK = re.compile(r"[,;:()\n]")
_ROUTE_BEFORE_WORDS = 3  # "IV", "with IV", "switched to oral"


def read(doc: Doc, language: str) -> Findings:
    lex = lexicon.load()
    found = Findings(language)
    text = doc.text  # built on each access: once per note, not once per entity
    scopes = section_scopes(doc, text)
    for sentence, ents in _by_sentence(doc):
        substances = [e for e in ents if e.label_ == SUBSTANCE]
        reactions = [e for e in ents if e.label_ == REACTION]
        allergies: list[tuple[Span, Allergy]] = []
        for i, ent in enumerate(substances):
            concept = lex.concepts[ent._.concept]
            if ent._.is_negated or ent._.is_family or ent._.is_hypothetical:
                continue
            if concept.kind == "class" and i and _in_parentheses(ent):
                continue  # "perindopril in 2019 (ACE inhibitor)": the class says what the drug is
            section = next((cat for start, end, cat in scopes if start <= ent.start_char < end), None)
            if _is_allergy(ent, concept, reactions, section) or _caused_reaction(text, ent, reactions, language):
                allergy = Allergy(concept, _mention(ent), certainty="possible" if ent._.is_uncertain else "confirmed")
                allergies.append((ent, allergy))
                found.allergies.append(allergy)
            elif concept.is_drug and concept.kind == "substance":  # a class ("NSAIDs") is no treatment
                historical = ent._.is_historical or section in PAST_SECTIONS
                written = _sig(text, sentence, substances, i, language)
                found.medications.append(Medication(concept, _mention(ent), written,
                                                    "stopped" if historical else "active"))
        _attach(text, sentence, allergies, reactions, language)
    _merge_duplicates(found)
    return found


def _by_sentence(doc: Doc) -> list[tuple[Span, list[Span]]]:
    """Each sentence with its substance and reaction entities (one pass over the entities)."""
    sentences = list(doc.sents)
    starts = [s.start for s in sentences]
    grouped: list[list[Span]] = [[] for _ in sentences]
    for ent in doc.ents:
        if ent.label_ in (SUBSTANCE, REACTION):
            grouped[bisect_right(starts, ent.start) - 1].append(ent)
    return [(s, ents) for s, ents in zip(sentences, grouped) if ents]


def _sig(text: str, sentence: Span, substances: list[Span], i: int, language: str) -> sig.Sig:
    """The sig written after substance ``i``, up to the next substance (or the sentence end).
    A route may also be part of the name ("fentanyl patch") or come just before it, in the same clause: "IV vancomycin",
    "switched to oral X" (not "X 7.5 mg SC daily and then to Y": that SC is X's)."""
    ent = substances[i]
    followed = i + 1 < len(substances)
    after_end = substances[i + 1].start_char if followed else sentence.end_char
    parsed = sig.parse(text[ent.end_char:after_end], language, name_follows=followed)
    if parsed.route is None:
        before_start = substances[i - 1].end_char if i else sentence.start_char
        before = _CLAUSE_BREAK.split(text[before_start:ent.start_char])[-1].split()[-_ROUTE_BEFORE_WORDS:]
        route = sig.last_route(" ".join([*before, ent.text]), language)  # the name may hold it: "fentanyl patch"
        parsed = sig.Sig(parsed.strength, parsed.dose, route, parsed.frequency, parsed.text)
    return parsed


def _in_parentheses(ent: Span) -> bool:
    """The entity is all that a pair of parentheses holds: "(IEC)", "(ACE inhibitor)"."""
    doc = ent.doc
    return (ent.start > 0 and ent.end < len(doc)
            and doc[ent.start - 1].text == "(" and doc[ent.end].text == ")")


def _is_allergy(ent: Span, concept: lexicon.Concept, reactions: list[Span], section: str | None) -> bool:
    if ent._.is_allergy or section in ALLERGY_SECTIONS:
        return True
    return not concept.is_drug and bool(reactions)


def _caused_reaction(text: str, ent: Span, reactions: list[Span], language: str) -> bool:
    """A reaction written just before the drug, linked to it: "rash after amoxicillin"."""
    return any(r.end <= ent.start and sig.links_reaction(text[r.end_char:ent.start_char], language)
               for r in reactions)


def section_scopes(doc: Doc, text: str) -> list[tuple[int, int, str]]:
    """(start, end, category) of the allergy and stopped-medication sections, by character.

    A header governs the rest of its line and the list items right below it; a header
    alone on its line governs the lines below it up to a blank line (or the next header).
    Prose after an inline "Allergies: X." is not the allergy list any more, even on the
    same line: a later sentence of the line belongs to the list only when it starts with
    a substance ("Allergies: tramadol - confusion. Erythromycin - diarrhoea." but not
    "Allergies: angioedema with perindopril. He has tolerated ramipril.").
    """
    scopes = []
    for section in doc._.sections:
        if section.category not in SCOPED_SECTIONS or section.title_start is None:
            continue
        title = doc[section.title_start:section.title_end]
        limit = doc[section.body_start:section.body_end].end_char if section.body_end else len(text)
        line_end = _line_end(text, title.end_char)
        alone = not text[title.end_char:line_end].strip()
        end = line_end if alone else _inline_list_end(doc, title, line_end)
        while end < limit:
            next_end = _line_end(text, end + 1)
            line = text[end + 1:next_end]
            if not line.strip() or not (alone or _LIST_ITEM.match(line)):
                break
            end = next_end
        scopes.append((title.start_char, min(end, limit), section.category))
    return scopes


def _inline_list_end(doc: Doc, title: Span, line_end: int) -> int:
    sentence = doc[title.end - 1].sent
    while sentence.end_char < line_end and sentence.end < len(doc):
        following = doc[sentence.end].sent
        first = next((t for t in following if not t.is_punct and not t.is_space), None)
        if first is None or first.ent_type_ != SUBSTANCE:
            break
        sentence = following
    return min(line_end, sentence.end_char)


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _attach(text: str, sentence: Span, allergies: list[tuple[Span, Allergy]], reactions: list[Span],
            language: str) -> None:
    if not allergies:
        return
    for reaction in reactions:
        before = [a for ent, a in allergies if ent.end <= reaction.start]
        owner = before[-1] if before else allergies[0][1]
        if reaction._.concept not in owner.reactions:
            owner.reactions.append(reaction._.concept)
    # Each allergy's segment: from the previous allergy (or the last "," or ";" after it: "rash
    # (mild) ; clindamycin -> diarrhoea") to the next one; severity words in it are its own.
    for i, (ent, allergy) in enumerate(allergies):
        start = allergies[i - 1][0].end_char if i else sentence.start_char
        separator = max(text.rfind(",", start, ent.start_char), text.rfind(";", start, ent.start_char))
        start = max(start, separator + 1) if i else start
        end = allergies[i + 1][0].start_char if i + 1 < len(allergies) else sentence.end_char
        allergy.severity = sig.severity(text[start:end], language)


def _merge_duplicates(found: Findings) -> None:
    """One finding per substance: a second mention adds what it says (the first mention stays
    the anchor). A medication written twice with two strengths is two regimens ("oxycodone MR
    10 mg twice daily", "oxycodone 5 mg every 4 hours as needed") and stays two."""
    allergies: dict[str, Allergy] = {}
    for a in found.allergies:
        kept = allergies.setdefault(a.concept.id, a)
        if kept is not a:
            kept.reactions += [r for r in a.reactions if r not in kept.reactions]
            kept.severity = kept.severity or a.severity
            if a.certainty == "possible":
                kept.certainty = "possible"
    found.allergies = list(allergies.values())
    medications: list[Medication] = []
    for m in found.medications:
        if m.concept.id in allergies:
            continue  # "rash after taking X ... allergy to X": the note is telling the reaction
        same = [k for k in medications if k.concept.id == m.concept.id and k.status == m.status]
        kept = next((k for k in same if not (k.sig.strength and m.sig.strength)
                     or k.sig.strength == m.sig.strength), None)
        if kept is None:
            medications.append(m)
        else:
            kept.sig = _combined(kept.sig, m.sig)
    found.medications = medications


def _combined(first: sig.Sig, second: sig.Sig) -> sig.Sig:
    """What two mentions of one regimen say: the first's values, completed by the second's."""
    return sig.Sig(first.strength or second.strength, first.dose or second.dose, first.route or second.route,
                   first.frequency or second.frequency, first.text or second.text)


def _mention(ent: Span) -> Mention:
    return Mention(ent.start_char, ent.end_char, ent.text)
