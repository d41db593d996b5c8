"""Batch deduplication in memory: block, estimate the model by EM, score the pairs.

The same model, comparators and blocking keys as the write-time matcher; used to
re-estimate m/u for a site's data (``train``) and by the benchmark (tests/bench/mdm.py).
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterable

from . import blocking
from .em import estimate, estimate_u, level_matrix
from .features import Features
from .model import Model, Score


def candidate_pairs(model: Model, features: list[Features]) -> list[tuple[int, int]]:
    """Pairs (i < j) sharing a blocking key; keys shared by more than ``max_block`` records
    are skipped (too common to say anything)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(features):
        for key in blocking.keys(f, model.blocking):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if 1 < len(members) <= model.max_block:
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    pairs.add((members[x], members[y]))
    return sorted(pairs)


def term_frequencies(model: Model, features: list[Features]):
    """(field, value) -> share of the records that carry the value, for the ``tf`` fields."""
    counts: dict[str, Counter] = {c.field: Counter() for c in model.comparisons if c.tf}
    for f in features:
        for field, counter in counts.items():
            counter.update(set(f.get(field, ())))
    totals = {field: sum(counter.values()) or 1 for field, counter in counts.items()}

    def share(field: str, value: str) -> float | None:
        counter = counts.get(field)
        return counter[value] / totals[field] if counter and counter[value] else None

    return share


def train(model: Model, features: list[Features], pairs: list[tuple[int, int]] | None = None) -> Model:
    """A copy of ``model`` with m, u and the prior estimated from the data (server.mdm.em):
    the rules a site's own records would give."""
    trained = copy.deepcopy(model)
    pairs = candidate_pairs(trained, features) if pairs is None else pairs
    estimate_u(trained, features)
    estimate(trained, level_matrix(trained, pairs, features), len(features))
    return trained


def score_pairs(model: Model, features: list[Features], pairs: Iterable[tuple[int, int]]):
    tf = term_frequencies(model, features)
    for a, b in pairs:
        score: Score = model.match(features[a], features[b], tf)
        yield a, b, score


def clusters(n: int, links: Iterable[tuple[int, int]]) -> list[int]:
    """Connected components (union-find): the cluster id of each record."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [root(i) for i in range(n)]
