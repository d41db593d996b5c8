"""The Fellegi-Sunter model: agreement levels -> match weight -> probability -> grade.

A pair's weight is log2 of the prior odds plus, per compared field, log2(m/u) of its
level (m: how often true matches show that level, u: how often non-matches do).
Exact agreement on a field with ``tf`` set is adjusted by how common the shared value
is: log2(u_exact / frequency(value)).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .comparators import COMPARATORS, Level
from .features import Features, IdentifierPolicy, extract
from .comparators import name as compare_name
from .golden import DEFAULT_SURVIVORSHIP
from .survivorship import Survivorship

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.json"
GRADES = ("certain", "probable", "possible")

TermFrequency = Callable[[str, str], float | None]  # (field, value) -> share of records with it


@dataclass
class Comparison:
    field: str
    comparator: str
    levels: tuple[str, ...]
    m: list[float]
    u: list[float]
    thresholds: tuple = ()
    tf: bool = False

    def __post_init__(self):
        self._function = COMPARATORS[self.comparator][0]
        self._extra = (tuple(self.thresholds),) if self.thresholds else ()

    def compare(self, a: Features, b: Features) -> Level:
        return self._function(a.get(self.field, ()), b.get(self.field, ()), *self._extra)

    def weight(self, level: int) -> float:
        return math.log2(max(self.m[level], 1e-9) / max(self.u[level], 1e-9))


@dataclass
class Evidence:
    field: str
    level: str
    weight: float


@dataclass
class Score:
    weight: float
    probability: float
    grade: str | None
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Model:
    resource_type: str
    prior: float  # probability that two records drawn at random are the same person
    comparisons: list[Comparison]
    thresholds: dict[str, float]  # grade -> minimum probability
    policy: IdentifierPolicy
    swap: tuple[str, str] | None = None  # (given, family): try them crossed, too
    blocking: list[str] = field(default_factory=list)
    max_block: int = 500
    survivorship: Survivorship | None = None  # how golden records show their sources

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_rules(cls, resource_type: str, rules: dict) -> Model:
        spec = rules[resource_type]
        comparisons = []
        for c in spec["comparisons"]:
            if c["comparator"] not in COMPARATORS:
                raise ValueError(f"{resource_type}.{c['field']}: unknown comparator {c['comparator']!r}")
            levels = COMPARATORS[c["comparator"]][1]
            if len(c["m"]) != len(levels) or len(c["u"]) != len(levels):
                raise ValueError(f"{resource_type}.{c['field']}: m and u need {len(levels)} values ({levels})")
            comparisons.append(Comparison(c["field"], c["comparator"], levels, list(c["m"]), list(c["u"]),
                                          tuple(c.get("thresholds", ())), bool(c.get("tf", False))))
        return cls(resource_type, spec["prior"], comparisons, dict(spec["thresholds"]),
                   IdentifierPolicy(dict(spec.get("nationalIdentifiers", {}))),
                   tuple(spec["swap"]) if spec.get("swap") else None, list(spec.get("blocking", [])),
                   int(spec.get("maxBlock", 500)),
                   Survivorship.from_rules(resource_type, spec["golden"]) if "golden" in spec
                   else DEFAULT_SURVIVORSHIP.get(resource_type))

    def to_rules(self) -> dict:
        return {
            "prior": self.prior, "thresholds": self.thresholds, "nationalIdentifiers": self.policy.national,
            **({"swap": list(self.swap)} if self.swap else {}), "blocking": self.blocking, "maxBlock": self.max_block,
            **({"golden": self.survivorship.to_rules()} if self.survivorship else {}),
            "comparisons": [{"field": c.field, "comparator": c.comparator, "thresholds": list(c.thresholds),
                             "tf": c.tf, "m": [round(x, 6) for x in c.m], "u": [round(x, 6) for x in c.u]}
                            for c in self.comparisons],
        }

    def features(self, resource: dict) -> Features:
        return extract(resource, self.policy)

    # -- scoring ------------------------------------------------------------------------

    def compare(self, a: Features, b: Features) -> list[Level]:
        if self.swap:
            a = self._oriented(a, b)
        return [c.compare(a, b) for c in self.comparisons]

    def _oriented(self, a: Features, b: Features) -> Features:
        """``a`` with given and family crossed when that agrees better with ``b``."""
        g, f = self.swap
        if not (a.get(g) and a.get(f) and b.get(g) and b.get(f)):
            return a
        straight = compare_name(a[g], b[g])[0] + compare_name(a[f], b[f])[0]
        if straight == 0:
            return a
        crossed = compare_name(a[f], b[g])[0] + compare_name(a[g], b[f])[0]
        return {**a, g: a[f], f: a[g]} if crossed < straight else a

    def score(self, levels: list[Level], tf: TermFrequency | None = None) -> Score:
        weight = math.log2(self.prior / (1 - self.prior))
        evidence = []
        for comparison, level in zip(self.comparisons, levels):
            if level is None:
                continue
            index, value = level
            w = comparison.weight(index)
            if index == 0 and comparison.tf and tf is not None and value is not None:
                share = tf(comparison.field, value)
                if share:
                    w += math.log2(comparison.u[0] / share)
            weight += w
            evidence.append(Evidence(comparison.field, comparison.levels[index], round(w, 3)))
        probability = 1 / (1 + 2 ** -weight) if weight > -1000 else 0.0
        return Score(weight, probability, self.grade(probability), evidence)

    def grade(self, probability: float) -> str | None:
        for grade in GRADES:
            if probability >= self.thresholds[grade]:
                return grade
        return None

    def match(self, a: Features, b: Features, tf: TermFrequency | None = None) -> Score:
        return self.score(self.compare(a, b), tf)


def load_rules(path: str | Path | None = None) -> dict:
    """The rules file (``PASSERELLE_MDM_RULES``), or the default shipped with the server."""
    with open(path or DEFAULT_RULES, encoding="utf-8") as handle:
        return json.load(handle)


def load_models(path: str | Path | None = None) -> dict[str, Model]:
    return models_from(load_rules(path))


def models_from(rules: dict) -> dict[str, Model]:
    return {rtype: Model.from_rules(rtype, rules) for rtype in rules if not rtype.startswith("_")}
