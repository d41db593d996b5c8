"""Clinical NLP benchmark: our notes pipeline on the annotated corpus, beside bare medspaCy.

    .venv/bin/python -m tests.bench.notes              # 184 notes x 5 passes for speed
    .venv/bin/python -m tests.bench.notes --passes 20

Three pipelines run on the same notes (tests/notes/corpus, English and French) in one run:

- **passerelle** (``mappers.notes``, spaCy's sentencizer + line breaks): what the server uses;
- **passerelle + PyRuSH**: the same with medspaCy's PyRuSH sentence splitter instead, to
  see whether the slower splitter finds more;
- **bare medspaCy**: ``medspacy.load`` defaults (PyRuSH, TargetMatcher, ConText with the
  rules medspaCy ships for the language) given the same lexicon target rules; a substance
  in a sentence with an "allerg-" word is an allergy, any other drug a medication; no
  sections, no misspelling matcher, no sig reading.

Accuracy: precision / recall / F1 per category against the gold annotations, micro-averaged
over all notes and also for each half (odd ids: the development half whose errors were
looked at while writing rules; even ids: held out), and apart for the long letters (800
characters or more: discharge and referral letters, medication lists, nursing notes).
Speed: notes per second over the whole corpus, pipeline build excluded (reported apart),
one process, after one warm-up pass; notes range from one line to a letter, so
characters per second are given too, notes per second on the long letters alone, and
pages per second on pages of about 2,500 characters (corpus notes of one language
joined). "build s" of the first pipeline includes loading the knowledge base and the
lexicon (shared by the others). Other work on the machine slows every figure alike:
compare the pipelines within one run.
Results go to tests/bench/notes-results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import medspacy
import spacy

from mappers.notes import pipeline, sig
from mappers.notes.findings import read as read_findings
from mappers.notes.model import Allergy, Findings, Medication, Mention
from terminology import lexicon
from tests.notes import corpus

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "notes-results.md"
MAIN = ("allergy", "medication")
TARGET_F1, TARGET_SPEED = 0.95, 100.0
LONG = 800  # characters: a letter, not a one-line note
_ALLERGY_WORD = re.compile(r"allerg", re.IGNORECASE)


def bare_medspacy(language: str):
    nlp = medspacy.load(spacy.blank(language), language_code=language,
                        medspacy_enable=["medspacy_pyrush", "medspacy_target_matcher", "medspacy_context"])
    nlp.get_pipe("medspacy_target_matcher").add(pipeline.target_rules(language))
    return nlp


def bare_findings(doc, language: str) -> Findings:
    lex = lexicon.load()
    found = Findings(language)
    for ent in doc.ents:
        if ent.label_ != pipeline.SUBSTANCE or ent._.is_negated or ent._.is_family or ent._.is_hypothetical:
            continue
        concept = lex.concepts[ent._.concept]
        mention = Mention(ent.start_char, ent.end_char, ent.text)
        if _ALLERGY_WORD.search(ent.sent.text):
            found.allergies.append(Allergy(concept, mention))
        elif concept.is_drug and concept.kind == "substance":
            found.medications.append(Medication(concept, mention, sig.Sig()))
    return found


def runners(languages):
    """name -> (build seconds, {language: text -> Findings})"""
    out = {}
    for name, splitter in (("passerelle", "sentencizer"), ("passerelle + PyRuSH", "pyrush")):
        start = time.perf_counter()
        nlps = {lang: pipeline.build(lang, splitter) for lang in languages}
        built = time.perf_counter() - start
        out[name] = (built, {lang: (lambda text, lang=lang, nlp=nlps[lang]: read_findings(nlp(text), lang))
                             for lang in languages})
    start = time.perf_counter()
    bare = {lang: bare_medspacy(lang) for lang in languages}
    built = time.perf_counter() - start
    out["bare medspaCy"] = (built, {lang: (lambda text, lang=lang, nlp=bare[lang]: bare_findings(nlp(text), lang))
                                    for lang in languages})
    return out


def measure(read, all_notes, passes: int) -> tuple[dict, float, float]:
    systems = {n.id: corpus.system_sets(read[n.language](n.text)) for n in all_notes}  # also the warm-up pass
    return (systems, *speed_on(read, all_notes, passes))


def speed_on(read, some_notes, passes: int) -> tuple[float, float]:
    """Notes per second of wall-clock time, and per second of this process's CPU time (what
    one free core would do: on a shared machine the wall clock also counts others' work)."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(passes):
        for n in some_notes:
            read[n.language](n.text)
    done = passes * len(some_notes)
    return done / (time.perf_counter() - start), done / (time.process_time() - cpu)


def pages(all_notes, size: int = 2500) -> list[tuple[str, str]]:
    """(language, text) pages of about ``size`` characters, made of consecutive notes."""
    out, current, language = [], [], None
    for n in all_notes:
        if current and (n.language != language or sum(map(len, current)) >= size):
            out.append((language, "\n".join(current)))
            current = []
        current.append(n.text)
        language = n.language
    return out + ([(language, "\n".join(current))] if current else [])


def page_speed(read, all_notes, passes: int) -> float:
    book = pages(all_notes)
    start = time.perf_counter()
    for _ in range(passes):
        for language, text in book:
            read[language](text)
    return passes * len(book) / (time.perf_counter() - start)


def scores(all_notes, systems, keep=lambda n: True):
    return corpus.score([(n.gold, systems[n.id]) for n in all_notes if keep(n)])


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5, help="passes over the corpus for the speed figure")
    args = parser.parse_args(argv)

    languages = ("en", "fr")
    all_notes = [n for lang in languages for n in corpus.load(lang)]
    letters = [n for n in all_notes if len(n.text) >= LONG]
    results, long_speed, cpu_speed = {}, {}, {}
    for name, (built, read) in runners(languages).items():
        systems, speed, cpu_speed[name] = measure(read, all_notes, args.passes)
        per_page = page_speed(read, all_notes, args.passes)
        long_speed[name] = speed_on(read, letters, args.passes)
        results[name] = (built, speed, systems, per_page)
        print(f"{name}: {speed:.0f} notes/s ({cpu_speed[name]:.0f} per CPU-second), {per_page:.1f} pages/s, "
              f"{long_speed[name][0]:.0f} letters/s ({long_speed[name][1]:.0f} per CPU-second) "
              f"(build {built:.1f} s)", flush=True)

    out = [f"# Clinical NLP benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", "",
           f"`.venv/bin/python -m tests.bench.notes --passes {args.passes}` on {os.cpu_count()} CPUs "
           f"({platform.processor() or platform.machine()}), load average {os.getloadavg()[0]:.1f}; "
           f"spaCy {spacy.__version__}, medspaCy {medspacy.__version__}; "
           f"{len(all_notes)} notes ({sum(n.language == 'en' for n in all_notes)} en, "
           f"{sum(n.language == 'fr' for n in all_notes)} fr), "
           f"{sum(len(n.text) for n in all_notes) // len(all_notes)} characters on average.", ""]
    out += ["## Speed and main scores", ""]
    rows = []
    for name, (built, speed, systems, per_page) in results.items():
        all_s, dev_s, test_s = (scores(all_notes, systems, keep) for keep in
                                (lambda n: True, lambda n: n.split == "dev", lambda n: n.split == "test"))
        chars = speed * sum(len(n.text) for n in all_notes) / len(all_notes)
        rows.append([name, f"{speed:.0f}", f"{cpu_speed[name]:.0f}", f"{chars / 1000:.0f}", f"{per_page:.1f}",
                     f"{built:.1f}"] + [f"{s[c].f1:.3f}" for c in MAIN for s in (all_s, dev_s, test_s)])
    out.append(table(rows, ["pipeline", "notes/s", "notes/CPU-s", "k chars/s", "pages/s", "build s",
                            "allergy F1 all", "allergy F1 dev",
                            "allergy F1 held-out", "medication F1 all", "medication F1 dev",
                            "medication F1 held-out"]))
    ours = results["passerelle"]
    dev = scores(all_notes, ours[2], lambda n: n.split == "dev")
    met = [f"allergy F1 {dev['allergy'].f1:.3f}", f"medication F1 {dev['medication'].f1:.3f}",
           f"{ours[1]:.0f} notes/s ({cpu_speed['passerelle']:.0f} per CPU-second)"]
    held = scores(all_notes, ours[2], lambda n: n.split == "test")
    out += ["", f"Targets (F1 >= {TARGET_F1} for allergies and medications on the development half, "
            f">= {TARGET_SPEED:.0f} notes/s), passerelle: {', '.join(met)}; on the held-out half (the honest "
            f"figure): allergy F1 {held['allergy'].f1:.3f}, medication F1 {held['medication'].f1:.3f}.", ""]
    letter_chars = sum(len(n.text) for n in letters) / len(letters)
    out += [f"## Long letters ({len(letters)} notes of {LONG}+ characters, {letter_chars:.0f} on average)", ""]
    rows = []
    for name, (_, _, systems, _) in results.items():
        dev_l, test_l = (scores(letters, systems, keep) for keep in
                         (lambda n: n.split == "dev", lambda n: n.split == "test"))
        wall, cpu = long_speed[name]
        rows.append([name, f"{wall:.0f}", f"{cpu:.0f}", f"{wall * letter_chars / 1000:.0f}"]
                    + [f"{s[c].f1:.3f}" for c in MAIN for s in (dev_l, test_l)])
    out += [table(rows, ["pipeline", "letters/s", "letters/CPU-s", "k chars/s", "allergy F1 dev", "allergy F1 held-out",
                         "medication F1 dev", "medication F1 held-out"]), ""]
    for name, (_, _, systems, _) in results.items():
        out += [f"## {name}: every category (all notes)", ""]
        s_all = scores(all_notes, systems)
        rows = [[c, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.tp), str(s.fp), str(s.fn)]
                for c, s in s_all.items()]
        out += [table(rows, ["category", "precision", "recall", "F1", "tp", "fp", "fn"]), ""]
        by_language = []
        for lang in languages:
            s = scores(all_notes, systems, lambda n, lang=lang: n.language == lang)
            by_language.append([lang] + [f"{s[c].f1:.3f}" for c in MAIN])
        out += [table(by_language, ["language", "allergy F1", "medication F1"]), ""]
    ours_sys, rush_sys = results["passerelle"][2], results["passerelle + PyRuSH"][2]
    differ = [n.id for n in all_notes if ours_sys[n.id] != rush_sys[n.id]]
    out += ["## Sentence splitter", "",
            f"PyRuSH and the sentencizer (+ line breaks) give different findings on {len(differ)} of "
            f"{len(all_notes)} notes{': ' + ', '.join(differ) if differ else ''}; the server uses the sentencizer.", ""]
    RESULTS.write_text("\n".join(out), encoding="utf-8")
    print("\n".join(out))


if __name__ == "__main__":
    main()
