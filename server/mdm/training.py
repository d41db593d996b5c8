"""Re-estimate a site's matching weights from its stored records (``passerelle mdm train``).

Reads the live source records of a type (golden records left out), at most
``max_records`` of them spread evenly over the store, and runs the same unsupervised
estimation as the benchmark (``linkage.train``: u from random pairs, m and the prior by
EM over the pairs sharing a blocking key). The result is a rules document of the same
shape as ``rules/default.json``, for a person to review and load with
``PASSERELLE_MDM_RULES``; each trained type carries a ``_trained`` note (records, pairs,
the most common values of the term-frequency fields: what the live ``tf:`` counts will
discount). Nothing in the store changes.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, func, select

from .. import jsonio
from ..storage.models import Resource, ResourceVersion
from . import golden
from .features import Features
from .linkage import candidate_pairs, train
from .model import Model

R = Resource.__table__
V = ResourceVersion.__table__
CHUNK = 2000
RARE = 0.01  # a field carried by fewer records than this share keeps its starting weights

_COUNT = select(func.count()).select_from(R).where(R.c.resource_type == bindparam("rtype"), R.c.deleted.is_(False))
_PAGE = (select(R.c.pid, V.c.content)
         .select_from(R.join(V, and_(V.c.pid == R.c.pid, V.c.version_id == R.c.version_id)))
         .where(R.c.resource_type == bindparam("rtype"), R.c.deleted.is_(False), R.c.pid > bindparam("after"))
         .order_by(R.c.pid).limit(CHUNK))


@dataclass
class Training:
    resource_type: str
    records: int  # records trained on
    stored: int  # live records of the type (golden records included)
    pairs: int  # candidate pairs the EM saw
    before: Model
    after: Model
    common: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def note(self) -> dict:
        return {"records": self.records, "candidatePairs": self.pairs,
                "commonValues": {f: [[v, round(s, 5)] for v, s in values] for f, values in self.common.items()}}


def stored_features(store, model: Model, *, max_records: int) -> tuple[list[Features], int]:
    """Features of up to ``max_records`` live source records, every k-th by pid; and how
    many live records the type has."""
    rtype = model.resource_type
    with store.read() as uow:
        stored = uow.conn.execute(_COUNT, {"rtype": rtype}).scalar() or 0
    step = max(1, -(-stored // max_records))  # ceil: a spread over the whole store, not its oldest part
    features: list[Features] = []
    for position, resource in enumerate(_records(store, rtype)):
        if position % step == 0 and not golden.is_golden(resource):
            features.append(model.features(resource))
    return features, stored


def _records(store, resource_type: str) -> Iterator[dict]:
    after = 0
    while True:
        with store.read() as uow:  # one short transaction per page: no snapshot held for minutes
            rows = uow.conn.execute(_PAGE, {"rtype": resource_type, "after": after}).all()
        if not rows:
            return
        for row in rows:
            yield jsonio.loads(row.content)
        after = rows[-1].pid


def common_values(model: Model, features: list[Features], top: int = 10) -> dict[str, list[tuple[str, float]]]:
    out = {}
    for comparison in model.comparisons:
        if comparison.tf:
            counts = Counter(v for f in features for v in set(f.get(comparison.field, ())))
            total = sum(1 for f in features if f.get(comparison.field)) or 1
            out[comparison.field] = [(value, count / total) for value, count in counts.most_common(top)]
    return out


def train_store(store, model: Model, *, max_records: int = 200_000, min_records: int = 200) -> Training:
    features, stored = stored_features(store, model, max_records=max_records)
    if len(features) < min_records:
        raise ValueError(f"{model.resource_type}: {len(features)} source records stored; training needs at least "
                         f"{min_records} (the weights would be noise)")
    pairs = candidate_pairs(model, features)
    trained = train(model, features, pairs)
    # A field the records (almost) never carry teaches nothing: its weights stay as they
    # were, ready for the day it is filled in, rather than EM's uniform "no evidence".
    for before, after in zip(model.comparisons, trained.comparisons):
        if sum(1 for f in features if f.get(before.field)) < RARE * len(features):
            after.m, after.u = list(before.m), list(before.u)
    return Training(model.resource_type, len(features), stored, len(pairs), copy.deepcopy(model), trained,
                    common=common_values(model, features))


def rules_document(rules: dict, trainings: list[Training]) -> dict:
    """``rules`` with each trained type's weights replaced (other types and notes kept)."""
    document = copy.deepcopy(rules)
    for training in trainings:
        spec = training.after.to_rules()
        spec["_trained"] = training.note()
        document[training.resource_type] = spec
    return document
