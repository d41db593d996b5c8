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
                   exclude: str | None = None, ids: list[str] | None = None,
                   records: dict[str, dict] | None = None) -> list[Candidate]:
        """Golden records with their best score, best first (no grade: below 'possible').

        ``ids``: the records sharing a blocking key, when the caller looked them up
        already (``index.lookup``); ``records``: content known already (records written
        earlier in this transaction, not necessarily flushed): those are not read again,
        and what is read is added to it."""
        model = self.models[resource_type]
        if ids is None:
            keys = self.keys(model, features) if keys is None else keys
            ids = index.candidates(uow.conn, resource_type, keys, exclude=exclude, max_block=model.max_block)
        if not ids:
            return []  # a new person: the common case
        records = {} if records is None else records
        missing = [i for i in ids if i not in records]
        found, counts = index.candidate_data(uow.conn, resource_type, missing, self._term_probe(model, features))
        records.update(found)
        tf = index.TermCounts(uow.conn, resource_type, self._totals, counts)
        return self.rank(model, features, {i: records[i] for i in ids if i in records}, tf)

    def rank(self, model: Model, features: Features, records: dict[str, dict], tf) -> list[Candidate]:
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
