"""What a note writes after a drug name: strength, dose, route, frequency (the "sig").

Rules are data (``rules/sig_<language>.json``, routes from ``terminology.lexicon``).
Values come out normalised so they can be coded and compared: strength "500 mg",
dose "2 tablet", route "oral", frequency "2/1d", "1/6h", "1/1wk", with " prn" (or just
"prn") when the note says "as needed".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from terminology import lexicon

RULES = Path(__file__).resolve().parent / "rules"
_NUMBER = r"\d+(?:[.,]\d+)?"
_MASS_UNITS = {"mg": "mg", "g": "g", "gr": "g", "µg": "µg", "μg": "µg", "mcg": "µg", "ug": "µg",
               "microgram": "µg", "micrograms": "µg", "microgramme": "µg", "microgrammes": "µg",
               "mg/ml": "mg/mL", "%": "%"}
_PER_HOUR = r"(?:\s*/\s*(?:h|hr|hour|heure))?"


def _alternatives(words) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))  # longest first


# Not a strength: a concentration of something else ("platelets 60 G/L", "5 mg/kg").
_STRENGTH = re.compile(rf"(?<![\w/])({_NUMBER})(?:\s*/\s*({_NUMBER}))?\s*({_alternatives(_MASS_UNITS)})"
                       rf"({_PER_HOUR})(?!\w|\s*/\s*(?:l|dl|kg|m2|m²)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Sig:
    strength: str | None = None
    dose: str | None = None
    route: str | None = None
    frequency: str | None = None
    text: str = ""  # the words the values were read from


@dataclass(frozen=True)
class _Rules:
    frequency: list[tuple[re.Pattern, str]]
    prn: re.Pattern
    dose: re.Pattern
    dose_units: dict[str, str]
    numbers: dict[str, str]
    severity: list[tuple[re.Pattern, str]]
    routes: list[tuple[re.Pattern, str]]
    reaction_links: frozenset[str]
    sig_end: re.Pattern  # where another treatment's sig starts


@cache
def rules(language: str) -> _Rules:
    data = json.loads((RULES / f"sig_{language}.json").read_text(encoding="utf-8"))
    units = {form: unit for unit, forms in data["dose_units"].items() for form in forms}
    numbers = data["numbers"]
    amount = f"{_NUMBER}|{_alternatives(numbers)}"
    dose = re.compile(rf"(?<![\w/])({amount})\s*(?:x\s*)?({_alternatives(units)})(?![\w])", re.IGNORECASE)
    severity = [(re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE), level)
                for level, words in data["severity"].items() for word in words]
    routes = []
    for term in lexicon.load().routes.values():
        for form in term.forms[language]:
            # Short abbreviations (IV, PO, SC) only as written: "po" is not "Po", "sc" not "Sc".
            flags = 0 if len(form) <= 3 else re.IGNORECASE
            routes.append((re.compile(rf"(?<![\w-]){re.escape(form)}(?![\w-])", flags), term.key))
    routes.sort(key=lambda r: -len(r[0].pattern))
    return _Rules([(re.compile(p, re.IGNORECASE), n) for p, n in data["frequency"]],
                  re.compile(data["prn"], re.IGNORECASE), dose, units, numbers, severity, routes,
                  frozenset(lexicon.plain(w) for w in data["reaction_links"]),
                  re.compile(rf"(?<!\w)(?:{_alternatives(data['sig_ends'])})(?!\w)", re.IGNORECASE))


_ARTICLE = re.compile(r"\s*(?:l'|d'|la|le|les|du|de la|des|the|a|an)\s*$")


def links_reaction(between: str, language: str) -> bool:
    """Whether the words between a reaction and a drug name make the drug its cause
    ("rash after", "éruption sous", "urticaire à l'")."""
    words = " ".join(lexicon.plain(between).split())
    return _ARTICLE.sub("", words).strip() in rules(language).reaction_links


_NAME = "\u2026"  # stands for the drug name that follows a sig's words ("… aspirin 75 mg on <clopidogrel>")


def parse(text: str, language: str, *, name_follows: bool = False) -> Sig:
    """The sig written in ``text`` (the words that follow one drug name), up to where
    another treatment's starts ("then", "puis"). ``name_follows``: the text stops where
    another drug's name starts, not where the writer stopped, so "on" at its end is
    "on <that drug>", not "at night" ("ON")."""
    r = rules(language)
    end = r.sig_end.search(text)
    if end:
        text, name_follows = text[:end.start()], False
    strength = _strength(text)
    frequency = _frequency(text + _NAME if name_follows else text, r)
    return Sig(strength, _dose(text, r), _route(text, r), frequency, text.strip())


def severity(text: str, language: str) -> str | None:
    """mild | moderate | severe when the text says so (the most serious word wins)."""
    found = {level for pattern, level in rules(language).severity if pattern.search(text)}
    for level in ("severe", "moderate", "mild"):
        if level in found:
            return level
    return None


def _number(text: str) -> str:
    value = text.replace(",", ".")
    return value[:-2] if value.endswith(".0") else value


def _strength(text: str) -> str | None:
    m = _STRENGTH.search(text)
    if not m:
        return None
    unit = _MASS_UNITS[m.group(3).lower()]
    value = _number(m.group(1)) + (f"/{_number(m.group(2))}" if m.group(2) else "")
    return f"{value} {unit}{'/h' if m.group(4) else ''}"


def _dose(text: str, r: _Rules) -> str | None:
    m = r.dose.search(text)
    if not m:
        return None
    amount = m.group(1).lower()
    return f"{_number(r.numbers.get(amount, amount))} {r.dose_units[m.group(2).lower()]}"


def _route(text: str, r: _Rules) -> str | None:
    hits = [(m.start(), key) for pattern, key in r.routes for m in [pattern.search(text)] if m]
    return min(hits)[1] if hits else None


def last_route(text: str, language: str) -> str | None:
    """The route written last in ``text`` (the words before a drug name: the nearest wins)."""
    hits = [(m.start(), key) for pattern, key in rules(language).routes for m in pattern.finditer(text)]
    return max(hits)[1] if hits else None


def _frequency(text: str, r: _Rules) -> str | None:
    """The frequency written first (of two rules matching at one place, the first listed)."""
    prn = bool(r.prn.search(text))
    hits = [(m.start(), rank, m, normal) for rank, (pattern, normal) in enumerate(r.frequency)
            for m in [pattern.search(text)] if m]
    if not hits:
        return "prn" if prn else None
    _, _, m, normal = min(hits, key=lambda h: h[:2])
    hours = next((g for g in m.groups() if g), None) if m.groups() else None
    value = normal.format(hours) if "{}" in normal else normal
    return f"{value} prn" if prn else value
