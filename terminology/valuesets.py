"""ValueSet expansion over the R4 value sets and code systems (ValueSet.compose).

An ``Expansion`` is the set of (system, code) pairs a value set contains, plus the code
systems it takes whole but that we cannot list (LOINC, SNOMED CT, UCUM...): "every
code of LOINC" is still a precise membership test for a search (``system = loinc``).

Supported compose rules (http://hl7.org/fhir/R4/valueset.html#compose):

- ``include``/``exclude`` by concept list, by whole system, by ``valueSet`` (the
  referenced sets and the system part are intersected, as the spec says);
- filters on a code system we hold completely: ``concept`` with ``is-a``,
  ``descendent-of``, ``is-not-a``, ``generalizes``, ``in``, ``not-in``, ``=``, and
  ``code`` with ``regex``; several filters in one include all apply (AND).

Anything else (a filter on LOINC properties, excluding single codes from a system we
cannot list, an unknown value set) raises ``NotExpandable``: a wrong membership answer
would silently mislead a search. Versions (``url|4.0.1``) are ignored: R4 has one of each.
Expansions are cached per URL (they are immutable data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from terminology.codesystems import CodeSystem, code_system, load_data

MAX_CODES = 10_000  # a larger set would make search SQL unreasonably long


class NotExpandable(ValueError):
    """The value set (or code system question) cannot be answered from our data."""


@dataclass(frozen=True)
class Expansion:
    codes: frozenset[tuple[str, str]]  # (system, code)
    systems: frozenset[str] = frozenset()  # whole code systems we cannot list

    def __contains__(self, coding: tuple[str, str]) -> bool:
        return coding[0] in self.systems or coding in self.codes

    def union(self, other: Expansion) -> Expansion:
        systems = self.systems | other.systems
        codes = frozenset(c for c in self.codes | other.codes if c[0] not in systems)
        return Expansion(codes, systems)

    def intersection(self, other: Expansion) -> Expansion:
        codes = (
            (self.codes & other.codes)
            | {c for c in self.codes if c[0] in other.systems}
            | {c for c in other.codes if c[0] in self.systems}
        )
        return Expansion(frozenset(codes), self.systems & other.systems)

    def difference(self, other: Expansion, url: str) -> Expansion:
        stuck = {s for s, _ in other.codes if s in self.systems}
        if stuck:
            raise NotExpandable(f"{url} excludes single codes of {', '.join(sorted(stuck))}, which cannot be listed here")
        codes = frozenset(c for c in self.codes - other.codes if c[0] not in other.systems)
        return Expansion(codes, self.systems - other.systems)


EMPTY = Expansion(frozenset())


@cache
def _value_sets() -> dict[str, dict]:
    return {e["resource"]["url"]: e["resource"] for e in load_data("valuesets")["entry"]}


def value_set(url: str) -> dict | None:
    """The (trimmed) R4 ValueSet with this canonical URL, or None."""
    return _value_sets().get(url.split("|")[0])


@lru_cache(maxsize=512)
def expand(url: str) -> Expansion:
    """The codes of the R4 value set ``url``; raises ``NotExpandable``."""
    found = _expand(url.split("|")[0], ())
    if len(found.codes) > MAX_CODES:
        raise NotExpandable(f"{url} has {len(found.codes)} codes, more than {MAX_CODES}")
    return found


def _expand(url: str, stack: tuple[str, ...]) -> Expansion:
    if url in stack:
        raise NotExpandable(f"{url} includes itself")
    vs = value_set(url)
    if vs is None:
        raise NotExpandable(f"Unknown ValueSet {url}")
    compose = vs.get("compose") or {}
    included = EMPTY
    for rule in compose.get("include") or ():
        included = included.union(_rule(rule, url, (*stack, url)))
    for rule in compose.get("exclude") or ():
        included = included.difference(_rule(rule, url, (*stack, url)), url)
    return included


def _rule(rule: dict, url: str, stack: tuple[str, ...]) -> Expansion:
    """One include/exclude entry: its system part and value sets, intersected."""
    parts = [_expand(v.split("|")[0], stack) for v in rule.get("valueSet") or ()]
    system = rule.get("system")
    if system:
        parts.insert(0, _system_part(system, rule, url))
    if not parts:
        raise NotExpandable(f"{url}: an include with neither system nor valueSet")
    result = parts[0]
    for part in parts[1:]:
        result = result.intersection(part)
    return result


def _system_part(system: str, rule: dict, url: str) -> Expansion:
    if rule.get("concept"):
        return Expansion(frozenset((system, c["code"]) for c in rule["concept"]))
    cs = code_system(system)
    filters = rule.get("filter") or ()
    if not filters:
        if cs is None or not cs.complete:
            return Expansion(frozenset(), frozenset({system}))
        return Expansion(frozenset((system, c) for c in cs.display))
    if cs is None or not cs.complete:
        raise NotExpandable(f"{url} filters {system}, a code system not held here")
    codes = set(cs.display)
    for f in filters:
        codes &= _filter(cs, f, url)
    return Expansion(frozenset((system, c) for c in codes))


def _filter(cs: CodeSystem, f: dict, url: str) -> set[str]:
    prop, op, value = f.get("property"), f.get("op"), f.get("value", "")
    if prop == "concept":
        match op:
            case "is-a":
                return {value} | cs.descendants(value) if value in cs.display else set()
            case "descendent-of":
                return cs.descendants(value)
            case "is-not-a":
                return set(cs.display) - {value} - cs.descendants(value)
            case "generalizes":
                return {value} | cs.ancestors(value) if value in cs.display else set()
            case "=":
                return {value} & set(cs.display)
            case "in":
                return set(value.split(",")) & set(cs.display)
            case "not-in":
                return set(cs.display) - set(value.split(","))
    if prop == "code" and op == "regex":
        pattern = re.compile(value)
        return {c for c in cs.display if pattern.fullmatch(c)}
    raise NotExpandable(f"{url}: filter {prop} {op} {value} on {cs.url} is not supported")


def compose_systems(url: str, _stack: tuple[str, ...] = ()) -> frozenset[str]:
    """The code systems a value set draws from (through the value sets it includes)."""
    url = url.split("|")[0]
    vs = value_set(url)
    if vs is None or url in _stack:
        return frozenset()
    found: set[str] = set()
    for rule in (vs.get("compose") or {}).get("include") or ():
        if rule.get("system"):
            found.add(rule["system"])
        for v in rule.get("valueSet") or ():
            found |= compose_systems(v, (*_stack, url))
    return frozenset(found)
