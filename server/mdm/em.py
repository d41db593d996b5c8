"""Estimating m and u from the data, without labels (expectation-maximisation).

u (how often two different people agree by chance) comes from random pairs, where true
matches are negligible; m and the share of matches among the candidate pairs (those
sharing a blocking key) come from EM over the candidate pairs, u held fixed. The prior
for two random records is then the expected number of matches over all pairs.

That EM may find nearly every candidate a match. With tight blocking that is true
(FEBRL); with few, common names it is a collapse onto "same name" (candidates agree on
names far more often than random pairs). A two-class EM, u estimated among the
candidates too (m and u starting from the rules and random pairs, as a Dirichlet prior
worth 50 pairs), tells the two apart: if it finds matches a minority among candidates,
its fit is kept, and the prior becomes the share of matches among candidates (scores are
only ever computed for candidate pairs, so prior and u stay consistent).
"""

from __future__ import annotations

import copy
import random

import numpy as np

from .model import Model

NULL = -1


def level_matrix(model: Model, pairs, features) -> np.ndarray:
    """One row per pair, one column per comparison: level index, or -1 (nothing to compare)."""
    rows = np.full((len(pairs), len(model.comparisons)), NULL, dtype=np.int8)
    for i, (a, b) in enumerate(pairs):
        for j, level in enumerate(model.compare(features[a], features[b])):
            if level is not None:
                rows[i, j] = level[0]
    return rows


def _distribution(column: np.ndarray, size: int, floor: float) -> list[float]:
    seen = column[column != NULL]
    counts = np.bincount(seen, minlength=size).astype(float) + floor
    return list(counts / counts.sum())


def estimate_u(model: Model, features: list, *, samples: int = 30_000, seed: int = 7) -> None:
    rng = random.Random(seed)
    n = len(features)
    pairs = [(i, j) for i, j in ((rng.randrange(n), rng.randrange(n)) for _ in range(samples)) if i != j]
    matrix = level_matrix(model, pairs, features)
    for j, comparison in enumerate(model.comparisons):
        comparison.u = _distribution(matrix[:, j], len(comparison.levels), floor=0.5)


def estimate(model: Model, matrix: np.ndarray, total_records: int) -> float:
    """m and the prior (and u when needed: see the module's notes); returns the share of
    matches among the candidate pairs."""
    fixed_u = copy.deepcopy(model)
    share = estimate_m(fixed_u, matrix, free_u=False)
    if share > 0.99:  # "every candidate is a match": right for tight blocking, or a collapse
        two_class = copy.deepcopy(model)  # m from the rules, u from random pairs: the starting point
        candidate_share = estimate_m(two_class, matrix, free_u=True, prior_strength=50.0)
        if candidate_share < 0.5:  # most candidates are strangers sharing a name: a collapse
            _adopt(model, two_class)
            model.prior = min(max(candidate_share, 1e-12), 0.5)
            return candidate_share
    _adopt(model, fixed_u)
    possible_pairs = total_records * (total_records - 1) / 2
    model.prior = min(max(share * len(matrix) / possible_pairs, 1e-12), 0.5)
    return share


def _adopt(model: Model, fitted: Model) -> None:
    for comparison, estimated in zip(model.comparisons, fitted.comparisons):
        comparison.m, comparison.u = estimated.m, estimated.u


def estimate_m(model: Model, matrix: np.ndarray, *, iterations: int = 25,
               tolerance: float = 1e-5, prior_strength: float = 0.0, free_u: bool = False) -> float:
    """EM on the candidate pairs' levels: sets each comparison's m (and u when ``free_u``).
    Returns the share of matches among the candidate pairs. With u fixed, m starts at
    "best level likely"; with u free, from the model's m."""
    share = 0.1
    priors = [np.array(c.m, dtype=float) * prior_strength for c in model.comparisons]
    u_priors = [np.array(c.u, dtype=float) * prior_strength for c in model.comparisons]
    if not free_u:
        for comparison in model.comparisons:
            size = len(comparison.levels)
            comparison.m = [0.8] + [0.2 / (size - 1)] * (size - 1)
    for _ in range(iterations):
        log_m = np.zeros(len(matrix))
        log_u = np.zeros(len(matrix))
        for j, comparison in enumerate(model.comparisons):
            column = matrix[:, j]
            known = column != NULL
            m = np.log(np.maximum(np.array(comparison.m), 1e-9))
            u = np.log(np.maximum(np.array(comparison.u), 1e-9))
            log_m[known] += m[column[known]]
            log_u[known] += u[column[known]]
        odds = np.log(share) - np.log(1 - share) + log_m - log_u
        p = 1 / (1 + np.exp(-np.clip(odds, -700, 700)))
        changed = 0.0
        for j, comparison in enumerate(model.comparisons):
            column = matrix[:, j]
            known = column != NULL
            size = len(comparison.levels)
            sums = np.bincount(column[known], weights=p[known], minlength=size) + priors[j] + 1e-6
            new = list(sums / sums.sum())
            changed = max(changed, max(abs(x - y) for x, y in zip(new, comparison.m)))
            comparison.m = new
            if free_u:
                others = np.bincount(column[known], weights=1 - p[known], minlength=size) + u_priors[j] + 1e-6
                comparison.u = list(others / others.sum())
        new_share = float(p.mean())
        changed = max(changed, abs(new_share - share))
        share = min(max(new_share, 1e-6), 1 - 1e-6)
        if changed < tolerance:
            break
    return share
