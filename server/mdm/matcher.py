"""Find the golden identities a record may belong to: blocking keys -> candidates -> scores.

Shared by the write-time hook (``listener``) and ``$match``. Candidates are source
records; each golden record is scored by its best source.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import blocking, golden, index
from .features import Features
from .model import Model, Score


@dataclass
class Candidate:
    golden_id: str
    source_id: str  # the source record that scored best
    score: Score


class Matcher:
    def __init__(self, models: dict[str, Model]):
        self.models = models
        self._totals: dict = {}

    def keys(self, model: Model, features: Features) -> list[str]:
        return blocking.keys(features, model.blocking)

    def term_keys(self, model: Model, features: Features) -> list[str]:
        """The ``tf:`` keys a record's values are counted under (written with the record)."""
        return blocking.term_keys(features, [c.field for c in model.comparisons if c.tf])

    def _term_probe(self, model: Model, features: Features) -> list[str]:
        """The ``tf:`` keys scoring a record may look up: its own values, and with given and
        family crossed (a swapped pair agrees on the other field's value)."""
        keys = self.term_keys(model, features)
        if model.swap:
            g, f = model.swap
            keys += blocking.term_keys({g: features.get(f, ()), f: features.get(g, ())}, [g, f])
        return keys

    def candidates(self, uow, resource_type: str, features: Features, *, keys: list[str] | None = None,
                   exclude: str | None = None) -> list[Candidate]:
        """Golden records with their best score, best first (no grade: below 'possible')."""
        model = self.models[resource_type]
        keys = self.keys(model, features) if keys is None else keys
        ids = index.candidates(uow.conn, resource_type, keys, exclude=exclude, max_block=model.max_block)
        if not ids:
            return []  # a new person: the common case, and no flush of the unit's buffered rows
        uow.flush()  # records written earlier in this transaction are candidates too
        records = index.current_resources(uow.conn, resource_type, ids)
        tf = index.TermCounts(uow.conn, resource_type, self._totals)
        if records:
            tf.prefetch(self._term_probe(model, features))
        best: dict[str, Candidate] = {}
        for source_id, record in records.items():
            if golden.is_golden(record):
                continue
            golden_id = golden.golden_of(record)
            if golden_id is None:
                continue
            score = model.match(features, model.features(record), tf)
            known = best.get(golden_id)
            if known is None or score.weight > known.score.weight:
                best[golden_id] = Candidate(golden_id, source_id, score)
        return sorted(best.values(), key=lambda c: -c.score.weight)
