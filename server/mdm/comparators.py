"""Comparators: two fields' values in, an agreement level out (0 = best; None = nothing to compare).

Each comparator defines its levels; a rule names the comparator and its thresholds
(``rules/default.json``). String similarity comes from rapidfuzz (Jaro-Winkler,
Damerau-Levenshtein) and phonetics from jellyfish, never from hand-written metrics.
When values agree exactly the comparator also returns that value, for the
term-frequency adjustment (a shared "Martin" says less than a shared "Wojcik").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from .normalize import phonetic

Level = tuple[int, str | None] | None  # (level, value agreed exactly) or None when a side is empty


def _jw(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b)


def _name_pair(a: str, b: str, high: float, low: float) -> int:
    if a == b:
        return 0
    ta, tb = set(a.split()), set(b.split())
    if ta == tb:
        return 0
    # "martin durand" vs "martin": a compound (hyphenated) name and one of its parts.
    if ta <= tb or tb <= ta:
        return 1
    similarity = _jw(a, b)
    if similarity >= high:
        return 1
    if similarity >= low:
        return 2
    if len(ta) > 1 or len(tb) > 1:
        a, b = a.replace(" ", ""), b.replace(" ", "")
        if _jw(a, b) >= high:
            return 2
    if phonetic(a) == phonetic(b):
        return 2
    return 3


def name(a: tuple[str, ...], b: tuple[str, ...], thresholds=(0.92, 0.8)) -> Level:
    """Levels: exact (same tokens in any order), close (JW >= high, or a part of a compound
    name), similar (JW >= low, or same NYSIIS code), different. Best over all name pairs
    (birth and used names)."""
    if not a or not b:
        return None
    high, low = thresholds
    best, value = 3, None
    for x in a:
        for y in b:
            level = _name_pair(x, y, high, low)
            if level < best:
                best, value = level, (x if level == 0 else None)
                if best == 0:
                    return 0, value
    return best, value


def _as_date(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def birth_date(a: tuple[str, ...], b: tuple[str, ...], thresholds=(1, 2)) -> Level:
    """Levels on YYYYMMDD: exact, day/month transposed, within ``thresholds[0]`` edit,
    within ``thresholds[1]`` edits (or one month apart), different. A partial date
    (YYYY, YYYYMM) agrees with a full one when the given part is the same (level 2)."""
    if not a or not b:
        return None
    x, y = a[0], b[0]
    if x == y:
        return 0, x
    if len(x) != 8 or len(y) != 8:
        shorter = min(len(x), len(y))
        return (2, None) if x[:shorter] == y[:shorter] else (4, None)
    if x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]:
        return 1, None
    edits = DamerauLevenshtein.distance(x, y)
    if edits <= thresholds[0]:
        return 2, None
    dx, dy = _as_date(x), _as_date(y)
    if edits <= thresholds[1] or (dx and dy and abs((dx - dy).days) <= 31):
        return 3, None
    return 4, None


def exact(a: tuple[str, ...], b: tuple[str, ...], thresholds=()) -> Level:
    """Levels: some value shared, nothing shared."""
    if not a or not b:
        return None
    for x in a:
        if x in b:
            return 0, x
    return 1, None


def string(a: tuple[str, ...], b: tuple[str, ...], thresholds=(0.9, 0.75)) -> Level:
    """Levels: exact, JW >= high, JW >= low, different (street names, cities)."""
    if not a or not b:
        return None
    best, value = 3, None
    for x in a:
        for y in b:
            if x == y:
                return 0, x
            score = _jw(x, y)
            level = 1 if score >= thresholds[0] else 2 if score >= thresholds[1] else 3
            best = min(best, level)
    return best, value


def identifier(a: tuple[str, ...], b: tuple[str, ...], thresholds=(1, 2)) -> Level:
    """``system|value`` pairs compared within the same system only: exact, within
    ``thresholds[0]`` edit, within ``thresholds[1]`` edits, different. Two records with
    identifiers of different systems only have nothing to compare (None)."""
    if not a or not b:
        return None
    by_system: dict[str, list[str]] = {}
    for item in b:
        system, _, value = item.rpartition("|")
        by_system.setdefault(system, []).append(value)
    best = None
    for item in a:
        system, _, value = item.rpartition("|")
        for other in by_system.get(system, ()):
            if value == other:
                return 0, item
            edits = DamerauLevenshtein.distance(value, other)
            level = 1 if edits <= thresholds[0] else 2 if edits <= thresholds[1] else 3
            best = level if best is None else min(best, level)
    return None if best is None else (best, None)


COMPARATORS: dict[str, tuple[Callable[..., Level], tuple[str, ...]]] = {
    "name": (name, ("exact", "close", "similar", "different")),
    "birth-date": (birth_date, ("exact", "day-month-transposed", "one-edit", "two-edits", "different")),
    "exact": (exact, ("exact", "different")),
    "string": (string, ("exact", "close", "similar", "different")),
    "identifier": (identifier, ("exact", "one-edit", "two-edits", "different")),
}
