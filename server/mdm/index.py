"""The blocking-key index (table ``mdm_block_key``, migration 0009) and candidate lookup.

One row per (type, key, record). Written in the same transaction as the record, so a
candidate search sees exactly what is committed. Besides the blocking keys, a record's
rows hold what the write-time hook needs to know without reading the record again:

- ``tf:field:value``: counting them tells how common a name is (term frequency);
- ``fp:<digest>``: a fingerprint of the record's matching features (an edit that leaves
  it alone changes nothing for matching);
- ``gl:<id>`` (``gl:<id>|manual`` when a person decided it): the golden record the
  record is linked to (and, looked up by key, the sources of a golden record).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Index, LargeBinary, String, and_, bindparam, delete, func, literal, null, select, union_all
from sqlalchemy.orm import Mapped, mapped_column

from .. import jsonio
from ..storage.bulk import insert_rows
from ..storage.models import Base, Resource, ResourceVersion

R = Resource.__table__
V = ResourceVersion.__table__


class BlockKey(Base):
    __tablename__ = "mdm_block_key"
    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fhir_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index(None, "resource_type", "fhir_id", "key"),)  # migration 0013


K = BlockKey.__table__
FINGERPRINT, GOLDEN, TERM = "fp:", "gl:", "tf:"

# Built once: SQLAlchemy then reuses their compiled form (these run on every Patient write).
_KEYS = bindparam("keys", expanding=True)
_IDS = bindparam("ids", expanding=True)
_RTYPE = bindparam("rtype")
# One round trip per record written: its own rows (what it was matched on last time) and
# the records sharing one of its blocking keys, leaving out keys carried by more than
# max_block records (too common to discriminate). Index range scans only, no join: on a
# table without statistics yet (a first load) a join let PostgreSQL's planner nest
# sequential scans (1.7 s per record in a first transaction of 200 Patients).
_SHARING = (select(K.c.key, K.c.fhir_id, func.count().over(partition_by=K.c.key).label("holders"))
            .where(K.c.resource_type == _RTYPE, K.c.key.in_(_KEYS)).subquery())
_LOOKUP = union_all(
    select(K.c.key, K.c.fhir_id).where(K.c.resource_type == _RTYPE, K.c.fhir_id == bindparam("own")),
    select(_SHARING.c.key, _SHARING.c.fhir_id).where(_SHARING.c.holders <= bindparam("max_block")),
)
_CURRENT = (select(R.c.fhir_id, V.c.content)
            .select_from(R.join(V, and_(V.c.pid == R.c.pid, V.c.version_id == R.c.version_id)))
            .where(R.c.resource_type == _RTYPE, R.c.fhir_id.in_(_IDS), R.c.deleted.is_(False)))
_CANDIDATE_DATA = union_all(
    select(R.c.fhir_id, V.c.content, literal(0))
    .select_from(R.join(V, and_(V.c.pid == R.c.pid, V.c.version_id == R.c.version_id)))
    .where(R.c.resource_type == _RTYPE, R.c.fhir_id.in_(_IDS), R.c.deleted.is_(False)),
    select(K.c.key, null().cast(LargeBinary), func.count())
    .where(K.c.resource_type == _RTYPE, K.c.key.in_(_KEYS)).group_by(K.c.key),
)
_TOTAL = select(func.count()).select_from(R).where(R.c.resource_type == _RTYPE, R.c.deleted.is_(False))
_OWN = select(K.c.key).where(K.c.resource_type == _RTYPE, K.c.fhir_id == bindparam("own"))
_HOLDERS = select(K.c.fhir_id).where(K.c.resource_type == _RTYPE, K.c.key.in_(_KEYS))
_DROP = delete(K).where(K.c.resource_type == _RTYPE, K.c.fhir_id == bindparam("own"), K.c.key.in_(_KEYS))
_DROP_ALL = delete(K).where(K.c.resource_type == _RTYPE, K.c.fhir_id == bindparam("own"))


@dataclass
class Lookup:
    own: set[str]  # the record's rows as stored (empty: never matched before)
    candidates: list[str]  # records sharing a usable blocking key, most keys shared first

    def golden(self) -> str | None:
        """The golden record the stored rows say the record is linked to."""
        return next((k[len(GOLDEN):].split("|")[0] for k in self.own if k.startswith(GOLDEN)), None)


def lookup(conn, resource_type: str, fhir_id: str, keys: list[str], *, max_block: int, limit: int = 100) -> Lookup:
    own: set[str] = set()
    shared: Counter = Counter()
    params = {"rtype": resource_type, "own": fhir_id, "keys": keys or [""], "max_block": max_block}
    for key, holder in conn.execute(_LOOKUP, params):
        if holder == fhir_id:
            own.add(key)
        else:
            shared[holder] += 1
    ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return Lookup(own, [holder for holder, _ in ranked])


def candidates(conn, resource_type: str, keys: list[str], *, exclude: str | None, max_block: int,
               limit: int = 100) -> list[str]:
    """Ids of records sharing a blocking key (``$match``: no record of its own)."""
    if not keys:
        return []
    return lookup(conn, resource_type, exclude or "", keys, max_block=max_block, limit=limit).candidates


def own_keys(conn, resource_type: str, fhir_id: str) -> set[str]:
    return set(conn.execute(_OWN, {"rtype": resource_type, "own": fhir_id}).scalars())


def sources_of(conn, resource_type: str, golden_id: str) -> list[str]:
    """The records linked to a golden record, by their ``gl:`` rows."""
    keys = [GOLDEN + golden_id, GOLDEN + golden_id + "|manual"]
    return list(dict.fromkeys(conn.execute(_HOLDERS, {"rtype": resource_type, "keys": keys}).scalars()))


def write_keys(conn, resource_type: str, fhir_id: str, keys: list[str], had: set[str]) -> None:
    """Make the record's rows ``keys``, knowing it has ``had``: only the difference is
    written (nothing at all for an edit that changes no matching field)."""
    stale = [k for k in had if k not in set(keys)]
    if stale:
        conn.execute(_DROP, {"rtype": resource_type, "own": fhir_id, "keys": stale})
    fresh = [{"resource_type": resource_type, "key": k, "fhir_id": fhir_id} for k in keys if k not in had]
    insert_rows(conn, K, fresh)  # one statement whatever the count (psycopg's executemany goes row by row)


def drop_keys(conn, resource_type: str, fhir_id: str) -> None:
    conn.execute(_DROP_ALL, {"rtype": resource_type, "own": fhir_id})


def current_resources(conn, resource_type: str, ids: list[str]) -> dict[str, dict]:
    """The current content of these live records (matching needs all of them, whoever asks)."""
    if not ids:
        return {}
    rows = conn.execute(_CURRENT, {"rtype": resource_type, "ids": ids}).all()
    return {row.fhir_id: jsonio.loads(row.content) for row in rows}


def candidate_data(conn, resource_type: str, ids: list[str], term_keys: list[str]) -> tuple[dict[str, dict], dict]:
    """The current content of the candidates and the counts of the ``tf:`` keys scoring
    will look up, in one round trip: (content by id, count by key)."""
    records: dict[str, dict] = {}
    counts: dict[str, int] = {}
    if not ids and not term_keys:
        return records, counts
    params = {"rtype": resource_type, "ids": ids or [""], "keys": term_keys or [""]}
    for name, content, count in conn.execute(_CANDIDATE_DATA, params):
        if content is None:
            counts[name] = count
        else:
            records[name] = jsonio.loads(content)
    return records, counts


class TermCounts:
    """How common a value is among the records: count of its ``tf:`` key (fetched with the
    candidates, ``candidate_data``) over the number of records, cached for a minute in
    ``totals`` (it moves slowly)."""

    def __init__(self, conn, resource_type: str, totals: dict, counts: dict[str, int]):
        self.conn = conn
        self.resource_type = resource_type
        self._totals = totals  # shared cache: resource_type -> (when, count)
        self._counts = counts

    def _total(self) -> int:
        when, count = self._totals.get(self.resource_type, (0.0, 0))
        if time.monotonic() - when > 60 or count == 0:
            count = self.conn.execute(_TOTAL, {"rtype": self.resource_type}).scalar() or 0
            self._totals[self.resource_type] = (time.monotonic(), count)
        return max(count, 1)

    def __call__(self, field: str, value: str) -> float | None:
        count = self._counts.get(f"tf:{field}:{value}"[:200], 0)  # not fetched: not counted
        if not count:
            return None
        total = self._total()
        # Below ~100 records frequencies are noise: no adjustment.
        return count / total if total >= 100 else None
