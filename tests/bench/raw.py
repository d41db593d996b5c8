"""Raw-database baseline: the same JSON with plain SQL, no FHIR server in the way.

Two scratch tables (``bench_raw_resource``: one row per resource with its JSON bytes;
``bench_raw_index``: ~10 index-like rows per resource, indexed like our idx_* tables)
filled with SQLAlchemy Core ``executemany`` on ONE connection, then read back by key.
JSON bytes and index rows are prepared before the clock starts: this is the database's
own cost, the ceiling the server is measured against.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    insert,
    select,
)

from .stats import percentile

BigId = BigInteger().with_variant(Integer, "sqlite")
metadata = MetaData()
raw_resource = Table(
    "bench_raw_resource", metadata,
    Column("pid", BigId, primary_key=True, autoincrement=False),
    Column("resource_type", String(64), nullable=False),
    Column("fhir_id", String(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime, nullable=False),
    Column("content", LargeBinary),
    UniqueConstraint("resource_type", "fhir_id"),
)
raw_index = Table(
    "bench_raw_index", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("pid", BigId, nullable=False, index=True),
    Column("resource_type", String(64), nullable=False),
    Column("param", String(100), nullable=False),
    Column("system", String(255)),
    Column("value", String(255)),
    Index("ix_bench_raw_index_search", "resource_type", "param", "value"),
)


@dataclass
class RawFigures:
    batched_per_s: float  # resources/s, batches of 100 per commit
    single_per_s: float  # resources/s, one resource (+ its index rows) per commit
    read_p50_ms: float
    read_p95_ms: float
    batched_count: int
    single_count: int
    reads: int


def raw_engine(url: str) -> Engine:
    """A plain engine; SQLite gets the same pragmas as the app (WAL, synchronous=NORMAL)."""
    if url.startswith("sqlite"):
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url)


def _prepare(rows, first_pid: int):
    """(resource dicts, index dicts) ready for executemany, one pair per resource."""
    now = _now()
    out = []
    for offset, (resource, index) in enumerate(rows):
        pid = first_pid + offset
        rtype = resource["resourceType"]
        out.append((
            dict(pid=pid, resource_type=rtype, fhir_id=resource["id"], version_id=1, last_updated=now,
                 content=orjson.dumps(resource)),
            [dict(pid=pid, resource_type=rtype, param=p, system=s, value=v) for p, s, v in index],
        ))
    return out


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def run_raw(url: str, rows, *, single: int, reads: int, batch: int = 100, seed: int = 7,
            log=print) -> RawFigures:
    """Insert ``rows`` in batches of ``batch`` (one commit each), then ``single`` more one per commit,
    then ``reads`` primary-key selects of random Patients. One connection throughout."""
    engine = raw_engine(url)
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        batched_rows = _prepare(rows[: len(rows) - single], 1)
        single_rows = _prepare(rows[len(rows) - single:], len(batched_rows) + 1)
        ins_r, ins_i = insert(raw_resource), insert(raw_index)
        with engine.connect() as conn:
            start = time.perf_counter()
            for i in range(0, len(batched_rows), batch):
                chunk = batched_rows[i:i + batch]
                conn.execute(ins_r, [r for r, _ in chunk])
                conn.execute(ins_i, [x for _, idx in chunk for x in idx])
                conn.commit()
            batched_s = time.perf_counter() - start
            log(f"    raw batched insert: {len(batched_rows)} resources in {batched_s:.2f} s")

            start = time.perf_counter()
            for r, idx in single_rows:
                conn.execute(ins_r, [r])
                conn.execute(ins_i, idx)
                conn.commit()
            single_s = time.perf_counter() - start
            log(f"    raw single-commit insert: {len(single_rows)} resources in {single_s:.2f} s")

            patients = [r["fhir_id"] for r, _ in batched_rows + single_rows if r["resource_type"] == "Patient"]
            rng = random.Random(seed)
            by_key = select(raw_resource.c.content).where(raw_resource.c.resource_type == "Patient",
                                                          raw_resource.c.fhir_id == bindparam("fid"))
            conn.commit()
            for fid in rng.choices(patients, k=min(50, reads)):  # warm-up
                conn.execute(by_key, {"fid": fid}).scalar_one()
            conn.commit()
            latencies = []
            for fid in rng.choices(patients, k=reads):
                t0 = time.perf_counter()
                content = conn.execute(by_key, {"fid": fid}).scalar_one()
                latencies.append(time.perf_counter() - t0)
                assert content
            conn.commit()
        return RawFigures(
            batched_per_s=len(batched_rows) / batched_s,
            single_per_s=len(single_rows) / single_s if single_rows else float("nan"),
            read_p50_ms=percentile(latencies, 50) * 1000,
            read_p95_ms=percentile(latencies, 95) * 1000,
            batched_count=len(batched_rows), single_count=len(single_rows), reads=reads,
        )
    finally:
        engine.dispose()

