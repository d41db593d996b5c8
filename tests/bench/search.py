"""Search benchmark: common clinical queries over HTTP at 10k, 100k and 1M resources.

    .venv/bin/python -m tests.bench.run --search                             # 10k, 100k, 1M; both backends
    .venv/bin/python -m tests.bench.run --search --sizes 10000,100000 --backends postgresql
    .venv/bin/python -m tests.bench.search explain --size 1000000 'Observation?subject=Patient/…&code=…'

Loading goes through the real write path in-process (``build_context(...).store.write()``
units of work, ``create()`` per resource: validation, index extraction, versions; the
same rows the API writes), in transactions of ``--load-batch`` resources, from several
processes on PostgreSQL (SQLite has one writer). Loaded databases are kept and reused:
SQLite files ``.bench/search-<size>-v<generator>.db`` and PostgreSQL databases
``passerelle_bench_<size>``, each with a marker (a JSON file beside it / the database's
COMMENT) naming the generator version, seed and size (a mismatch, or ``--reload``, loads
again), the schema revision and the index-extraction code's hash (a change is reported:
the server migrates the schema at start-up, ``--reload`` re-extracts). Queries then run
over HTTP against a uvicorn subprocess.
See tests/bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import multiprocessing as mp
import os
import platform
import queue
import random
import sqlite3
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .rest import ROOT, uvicorn_server
from .search_population import (
    GENERATOR_VERSION,
    INS_SYSTEM,
    LOINC,
    MRN_SYSTEM,
    RARE_LABS,
    SYSTOLIC,
    SearchPopulation,
)
from .stats import percentile

HERE = Path(__file__).resolve().parent
CACHE = ROOT / ".bench"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
TARGET_P95_MS = 50.0  # each query, 1M resources, PostgreSQL
FHIR_JSON = "application/fhir+json"
_ = INS_SYSTEM  # (the INS is generated too; the queries use the MRN)


def log(message: str) -> None:
    print(message, flush=True)


# -- where a population lives -----------------------------------------------------------------


@dataclass
class Target:
    backend: str  # sqlite | postgresql
    size: int
    url: str  # what the app connects to
    admin_url: str | None = None  # PostgreSQL: a database to CREATE/DROP from
    dbname: str | None = None

    @property
    def label(self) -> str:
        return f"{self.backend} {self.size:,}"

    @property
    def sqlite_path(self) -> Path:
        return CACHE / f"search-{self.size}-v{GENERATOR_VERSION}.db"

    @property
    def marker_path(self) -> Path:
        return self.sqlite_path.with_suffix(".json")


def pg_base_url() -> str:
    return os.environ.get("PASSERELLE_BENCH_DATABASE_URL", DEFAULT_PG)


def target(backend: str, size: int) -> Target:
    if backend == "sqlite":
        t = Target(backend, size, "")
        t.url = f"sqlite:///{t.sqlite_path}"
        return t
    base = make_url(pg_base_url())
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"passerelle_bench_{size}"
    return Target(backend, size, base.set(database=name).render_as_string(hide_password=False),
                  admin_url=base.render_as_string(hide_password=False), dbname=name)


def schema_head() -> str:
    from alembic.script import ScriptDirectory

    from server.storage.db import alembic_config

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def extract_fingerprint() -> str:
    """Hash of the code that turns resources into index rows: rows loaded by other code may differ."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "server/search/extract").glob("*.py")) + [ROOT / "server/search/index_rows.py"]
    for path in files:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def read_marker(t: Target) -> dict | None:
    if t.backend == "sqlite":
        if not (t.sqlite_path.exists() and t.marker_path.exists()):
            return None
        return orjson.loads(t.marker_path.read_bytes())
    engine = create_engine(t.admin_url)
    try:
        with engine.connect() as conn:
            comment = conn.execute(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                        "WHERE datname = :n"), {"n": t.dbname}).scalar()
    finally:
        engine.dispose()
    try:
        return orjson.loads(comment) if comment else None
    except orjson.JSONDecodeError:
        return None


def write_marker(t: Target, marker: dict) -> None:
    if t.backend == "sqlite":
        t.marker_path.write_bytes(orjson.dumps(marker, option=orjson.OPT_INDENT_2))
        return
    engine = create_engine(t.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            literal = orjson.dumps(marker).decode().replace("'", "''")
            conn.exec_driver_sql(f'COMMENT ON DATABASE "{t.dbname}" IS \'{literal}\'')
    finally:
        engine.dispose()


def reusable(t: Target, marker: dict | None, seed: int) -> str | None:
    """Why ``marker`` cannot be reused (None: it can)."""
    if marker is None or not marker.get("complete"):
        return "not loaded"
    if marker.get("generator") != GENERATOR_VERSION or marker.get("seed") != seed or marker.get("size") != t.size:
        return f"generator/seed/size differ ({marker.get('generator')}/{marker.get('seed')}/{marker.get('size')})"
    return None


# -- loading ------------------------------------------------------------------------------------


def _fresh_database(t: Target) -> None:
    if t.backend == "sqlite":
        CACHE.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{t.sqlite_path}{suffix}").unlink(missing_ok=True)
        t.marker_path.unlink(missing_ok=True)
        return
    engine = create_engine(t.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{t.dbname}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{t.dbname}"')
    finally:
        engine.dispose()


def _load_worker(url: str, seed: int, size: int, worker: int, workers: int, batch: int, out) -> None:
    """Write groups worker, worker + workers, … in units of work of about ``batch`` resources."""
    try:
        from server.app import build_context
        from server.config import Settings

        ctx = build_context(Settings(database_url=url), run_migrations=False)
        pop = SearchPopulation(seed)
        plan = pop.plan(size)
        pending: list[tuple[str, dict]] = []
        written = 0

        def write() -> None:
            nonlocal written
            with ctx.store.write() as uow:
                for fhir_id, resource in pending:
                    uow.create(resource, fhir_id=fhir_id)
            written += len(pending)
            pending.clear()
            out.put(("progress", worker, written))

        for k in range(worker, plan.groups, workers):
            pending += pop.group(k, plan.last_size if k == plan.groups - 1 else None)
            if len(pending) >= batch:
                write()
        if pending:
            write()
        ctx.store.engine.dispose()
        out.put(("done", worker, written))
    except BaseException:  # noqa: BLE001 - reported to the parent
        out.put(("error", worker, traceback.format_exc()))


def load(t: Target, seed: int, workers: int, batch: int) -> dict:
    """Load the population of ``t.size`` into a fresh database; returns the marker written."""
    from server.storage.db import make_engine, migrate

    workers = 1 if t.backend == "sqlite" else max(1, workers)
    log(f"  [{t.label}] loading {t.size:,} resources in-process (store.write(), create() per resource), "
        f"{workers} process(es), units of work of ~{batch}")
    fingerprint, schema = extract_fingerprint(), schema_head()  # the code the loading processes import now
    _fresh_database(t)
    engine = make_engine(t.url)
    migrate(engine)
    engine.dispose()
    spawn = mp.get_context("spawn")
    out = spawn.Queue()
    procs = [spawn.Process(target=_load_worker, args=(t.url, seed, t.size, w, workers, batch, out), daemon=True)
             for w in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    done: dict[int, int] = {}
    progress: dict[int, int] = {}
    last_report = started
    try:
        while len(done) < workers:
            try:
                kind, w, value = out.get(timeout=5)
            except queue.Empty:
                dead = [p for i, p in enumerate(procs) if not p.is_alive() and i not in done]
                if dead:
                    raise RuntimeError(f"a loading process died (exit {dead[0].exitcode})") from None
                continue
            if kind == "error":
                raise RuntimeError(f"loading process {w} failed:\n{value}")
            progress[w] = value
            if kind == "done":
                done[w] = value
            now = time.perf_counter()
            if now - last_report >= 15 or len(done) == workers:
                n = sum(progress.values())
                rate = n / (now - started)
                eta = (t.size - n) / rate if rate else float("nan")
                log(f"    {n:,} / {t.size:,} resources, {rate:,.0f}/s, {now - started:.0f} s elapsed, "
                    f"~{eta:.0f} s to go")
                last_report = now
    finally:
        for p in procs:
            if p.is_alive() and len(done) < workers:
                p.terminate()
            p.join(timeout=30)
    seconds = time.perf_counter() - started
    loaded = sum(done.values())
    if loaded != t.size:
        raise RuntimeError(f"loaded {loaded} resources, expected {t.size}")
    log(f"  [{t.label}] loaded in {seconds:.0f} s ({loaded / seconds:,.0f} resources/s); finishing")
    finish_started = time.perf_counter()
    _finish(t)
    finish = time.perf_counter() - finish_started
    marker = dict(complete=True, generator=GENERATOR_VERSION, seed=seed, size=t.size, schema=schema,
                  extract=fingerprint, load_seconds=round(seconds, 1), load_workers=workers,
                  load_batch=batch, finish_seconds=round(finish, 1),
                  loaded_at=f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
                  **database_size(t))
    write_marker(t, marker)
    log(f"  [{t.label}] {'VACUUM ANALYZE' if t.backend == 'postgresql' else 'ANALYZE, WAL checkpoint'} in {finish:.0f} s; "
        f"database {marker['database_mb']:,} MB")
    return marker


def _finish(t: Target) -> None:
    """PostgreSQL: VACUUM ANALYZE (statistics, as autovacuum would set them, and the visibility map
    for index-only scans). SQLite: the app's own statistics refresh after a bulk load
    (``refresh_statistics``: ANALYZE), then checkpoint the WAL."""
    if t.backend == "sqlite":
        from server.storage.db import make_engine, refresh_statistics

        engine = make_engine(t.url)
        try:
            refresh_statistics(engine)
        finally:
            engine.dispose()
        conn = sqlite3.connect(t.sqlite_path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return
    engine = create_engine(t.url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()


def database_size(t: Target) -> dict:
    if t.backend == "sqlite":
        return dict(database_mb=round(t.sqlite_path.stat().st_size / 2**20))
    engine = create_engine(t.url)
    try:
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    finally:
        engine.dispose()
    return dict(database_mb=round(size / 2**20))


def ensure_loaded(t: Target, seed: int, *, reload: bool, workers: int, batch: int) -> dict:
    marker = None if reload else read_marker(t)
    why = "--reload" if reload else reusable(t, marker, seed)
    if why is None:
        log(f"  [{t.label}] reusing the loaded database (loaded {marker.get('loaded_at')}, "
            f"{marker.get('database_mb', '?'):,} MB)")
        # The server migrates the schema at start-up, as in production; rows written before a migration
        # (or by other extraction code) may differ from what the current code would write: say so.
        if marker.get("schema") != schema_head():
            log(f"  [{t.label}] note: loaded at schema revision {marker.get('schema')}, now {schema_head()} "
                "(the server migrates it at start); --reload if a migration changes what writes produce")
        if marker.get("extract") != extract_fingerprint():
            log(f"  [{t.label}] note: the index-extraction code changed since this database was loaded; "
                "--reload to index it with the current code")
        return marker
    log(f"  [{t.label}] loading ({why})")
    return load(t, seed, workers, batch)


# -- the queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One Patient of the population and values about them that exist."""

    id: str
    family: str
    birth_date: str
    mrn: str
    systolic_year: int  # a year with a systolic blood pressure of theirs (2023 if none)


@dataclass(frozen=True)
class Query:
    key: str
    label: str  # shown in the report, values in <>
    build: Callable[[Sample, int], tuple[str, list[tuple[str, str]]]]  # (sample, i) -> (type, params)


def _rare(i: int) -> str:
    return f"{LOINC}|{RARE_LABS[i % len(RARE_LABS)][0]}"


QUERIES = [
    Query("name_birthdate", "Patient?name=<family>&birthdate=<date>",
          lambda s, i: ("Patient", [("name", s.family.lower()), ("birthdate", s.birth_date)])),
    Query("identifier", "Patient?identifier=<MRN system>|<value>",
          lambda s, i: ("Patient", [("identifier", f"{MRN_SYSTEM}|{s.mrn}")])),
    Query("obs_code_date", "Observation?subject=Patient/<id>&code=http://loinc.org|8480-6"
                           "&date=ge<Y>-01-01&date=lt<Y+1>-01-01",
          lambda s, i: ("Observation", [("subject", f"Patient/{s.id}"), ("code", f"{LOINC}|{SYSTOLIC}"),
                                        ("date", f"ge{s.systolic_year}-01-01"),
                                        ("date", f"lt{s.systolic_year + 1}-01-01")])),
    Query("include", "Observation?subject=Patient/<id>&_include=Observation:subject",
          lambda s, i: ("Observation", [("subject", f"Patient/{s.id}"), ("_include", "Observation:subject")])),
    Query("revinclude", "Patient?_id=<id>&_revinclude=Observation:subject",
          lambda s, i: ("Patient", [("_id", s.id), ("_revinclude", "Observation:subject")])),
    Query("chain", "Observation?subject:Patient.name=martin&code=http://loinc.org|8480-6",
          lambda s, i: ("Observation", [("subject:Patient.name", "martin"), ("code", f"{LOINC}|{SYSTOLIC}")])),
    Query("has", "Patient?_has:Observation:subject:code=http://loinc.org|<rare lab>",
          lambda s, i: ("Patient", [("_has:Observation:subject:code", _rare(i))])),
    Query("sort_date", "Observation?subject=Patient/<id>&_sort=-date&_count=20",
          lambda s, i: ("Observation", [("subject", f"Patient/{s.id}"), ("_sort", "-date"), ("_count", "20")])),
]


def samples(pop: SearchPopulation, size: int, count: int, seed: int) -> list[Sample]:
    """``count`` Patients drawn from the population of ``size`` (complete groups only)."""
    plan = pop.plan(size)
    complete = range(plan.groups - 1) if plan.last_size < pop.shape(plan.groups - 1).size else range(plan.groups)
    rng = random.Random(seed)
    picked = rng.sample(complete, min(count, len(complete)))
    out = []
    for k in picked:
        group = pop.group(k)
        pid, patient = group[0]
        years = sorted({int(r["effectiveDateTime"][:4]) for _, r in group if r["resourceType"] == "Observation"
                        and r["code"]["coding"][0]["code"] == SYSTOLIC})
        out.append(Sample(pid, patient["name"][0]["family"], patient["birthDate"], patient["identifier"][0]["value"],
                          rng.choice(years) if years else 2023))
    return out


@dataclass
class Measure:
    latencies: list[float] = field(default_factory=list)  # seconds
    totals: list[int] = field(default_factory=list)  # Bundle.total of the requests that had one
    entries: list[int] = field(default_factory=list)  # entries per Bundle (matches + includes)
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # server process CPU over the measured requests

    def p(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000

    @property
    def cpu_ms(self) -> float:
        n = len(self.latencies) + len(self.errors)
        return 1000 * self.cpu_seconds / n if n else float("nan")


def measure(server, query: Query, pool: list[Sample], *, iterations: int, warmup: int, budget_s: float) -> Measure:
    """``warmup`` requests not counted, then up to ``iterations`` (within ``budget_s``), each on the
    next sample: one client, sequential, latency measured in the client."""
    m = Measure()
    with httpx.Client(base_url=server.base, headers={"Accept": FHIR_JSON}, timeout=120) as client:
        for i in range(warmup):
            resource_type, params = query.build(pool[-1 - i % len(pool)], i)
            client.get(f"/{resource_type}", params=params)
        cpu0 = server.cpu_seconds()
        started = time.perf_counter()
        for i in range(iterations):
            resource_type, params = query.build(pool[i % len(pool)], i)
            t0 = time.perf_counter()
            response = client.get(f"/{resource_type}", params=params)
            elapsed = time.perf_counter() - t0
            if response.status_code != 200:
                m.errors.append(f"{response.status_code}: {response.text[:300]}")
            else:
                m.latencies.append(elapsed)
                body = response.json()
                if "total" in body:  # optional in a searchset
                    m.totals.append(body["total"])
                m.entries.append(len(body.get("entry", [])))
            if time.perf_counter() - started > budget_s and i + 1 >= 5:
                break
        m.cpu_seconds = server.cpu_seconds() - cpu0
    return m


# -- one run --------------------------------------------------------------------------------------


@dataclass
class Cell:
    target: Target
    marker: dict
    measures: dict[str, Measure]
    seconds: float


def bench_target(t: Target, args, pool: list[Sample]) -> Cell:
    marker = ensure_loaded(t, args.seed, reload=args.reload, workers=args.load_workers, batch=args.load_batch)
    started = time.perf_counter()
    log(f"  [{t.label}] measuring over HTTP ({args.iterations} requests per query, warm-up {args.warmup})")
    measures: dict[str, Measure] = {}
    with uvicorn_server(t.url, CACHE / f"uvicorn-search-{t.backend}-{t.size}.log") as server:
        for q in QUERIES:
            m = measure(server, q, pool, iterations=args.iterations, warmup=args.warmup, budget_s=args.budget)
            measures[q.key] = m
            err = f", {len(m.errors)} errors (first: {m.errors[0][:200]})" if m.errors else ""
            log(f"    {q.key:15s} p50 {m.p(50):8.2f} ms  p95 {m.p(95):8.2f} ms  n={len(m.latencies):3d}  "
                f"total~{_median(m.totals)}  entries~{_median(m.entries)}  server CPU {m.cpu_ms:.1f} ms{err}")
    return Cell(t, marker, measures, time.perf_counter() - started)


def _median(values: list[int]):
    return "—" if not values else f"{statistics.median(values):g}"


def run(args) -> int:
    CACHE.mkdir(exist_ok=True)
    load_before = _loadavg()
    started = time.perf_counter()
    pop = SearchPopulation(args.seed)
    cells: list[Cell] = []
    pg_version = None
    skipped: list[str] = []
    for size in args.sizes:
        pool = samples(pop, size, args.samples, args.seed + size)
        for backend in args.backends:
            t = target(backend, size)
            log(f"== {t.label}")
            if backend == "postgresql":
                try:
                    pg_version = _pg_version(t.admin_url)
                except Exception as exc:  # noqa: BLE001 - no PostgreSQL: say so, go on
                    skipped.append(f"{t.label}: PostgreSQL unreachable ({exc.__class__.__name__})")
                    log(f"  {skipped[-1]}")
                    continue
            cells.append(bench_target(t, args, pool))
            # Written after every database, so that a long run interrupted later keeps what it measured.
            args.output.write_text(report(cells, args, pg_version, load_before, time.perf_counter() - started,
                                          skipped))
    document = report(cells, args, pg_version, load_before, time.perf_counter() - started, skipped)
    print()
    print(document)
    args.output.write_text(document)
    log(f"(written to {args.output})")
    return 0


def _pg_version(admin_url: str) -> str:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


# -- report -----------------------------------------------------------------------------------------


def growth(small: float, large: float, ratio: float) -> tuple[float, float]:
    """(factor, exponent): large = small × factor = small × ratio^exponent."""
    factor = large / small if small else float("nan")
    return factor, (math.log(factor) / math.log(ratio) if factor > 0 and ratio > 1 else float("nan"))


def _size_label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k" if size % 1000 == 0 else str(size)


def report(cells: list[Cell], args, pg_version, load_before: str, seconds: float, skipped: list[str]) -> str:
    from .run import cpu_model

    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        "# Passerelle search benchmark",
        "",
        f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- machine: nproc {nproc}, CPU {cpu_model()}, load average before {load_before}, after {_loadavg()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
        + (f", PostgreSQL {pg_version}" if pg_version else ""),
        f"- population: generator v{GENERATOR_VERSION}, seed {args.seed} (`tests/bench/search_population.py`): "
        "per Patient ~55 resources (Encounters 2015-2025, vital signs and labs as Observations with LOINC codes "
        "and `valueQuantity`, Conditions, MedicationRequests, Appointments); 10k = ~180 Patients, 1M = ~18,300",
        f"- measure: one client, sequential, over HTTP (uvicorn subprocess, httpx keep-alive); per query "
        f"{args.warmup} warm-up requests then {args.iterations} requests (fewer if over {args.budget:.0f} s), each "
        f"on the next of {args.samples} sampled Patients; latency in the client; server CPU = uvicorn process "
        "(includes SQLite, not PostgreSQL's own processes)",
        f"- target: p95 < {TARGET_P95_MS:.0f} ms for each query at 1M resources on PostgreSQL",
        "",
        "## Loaded databases",
        "",
        "| backend | resources | loaded | load time | resources/s | processes | VACUUM ANALYZE / checkpoint | size |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        m = c.marker
        rate = c.target.size / m["load_seconds"] if m.get("load_seconds") else float("nan")
        lines.append(f"| {c.target.backend} | {c.target.size:,} | {m.get('loaded_at', '?')} | "
                     f"{m.get('load_seconds', float('nan')):,.0f} s | {rate:,.0f} | {m.get('load_workers', '?')} | "
                     f"{m.get('finish_seconds', float('nan')):,.0f} s | {m.get('database_mb', 0):,} MB |")
    lines += ["", "Queries (values in <> are sampled from the generated population, so every query hits data):", ""]
    for i, q in enumerate(QUERIES, 1):
        lines.append(f"{i}. `{q.key}`: `{q.label}`")
    lines.append("")
    for backend in args.backends:
        mine = sorted((c for c in cells if c.target.backend == backend), key=lambda c: c.target.size)
        if not mine:
            continue
        lines += _backend_table(backend, mine)
    if skipped:
        lines += ["Not run: " + "; ".join(skipped), ""]
    lines += [f"Wall time {seconds:.0f} s (loading included). The machine is shared and noisy: rerun before "
              "concluding on a few milliseconds.", ""]
    return "\n".join(lines)


def _backend_table(backend: str, cells: list[Cell]) -> list[str]:
    sizes = [c.target.size for c in cells]
    small, large = cells[0], cells[-1]
    ratio = large.target.size / small.target.size
    span = f"{_size_label(small.target.size)}→{_size_label(large.target.size)}"
    head = ["query"] + [f"{_size_label(s)} p50 / p95" for s in sizes] + \
           ["Bundle.total, " + " / ".join(_size_label(s) for s in sizes),
            f"entries at {_size_label(large.target.size)}",
            f"server CPU at {_size_label(large.target.size)}", f"p50 growth {span} (exponent)"]
    has_target = backend == "postgresql" and large.target.size >= 1_000_000
    if has_target:
        head.append(f"p95 < {TARGET_P95_MS:.0f} ms at 1M")
    lines = [f"## {backend}", "", "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    flagged = []
    for q in QUERIES:
        row = [f"`{q.key}`"]
        for c in cells:
            m = c.measures[q.key]
            cell = f"{m.p(50):.1f} / {m.p(95):.1f}" if m.latencies else "—"
            if m.errors:
                cell += f" ({len(m.errors)} errors)"
            row.append(cell)
        m_large = large.measures[q.key]
        row.append(" / ".join(_median(c.measures[q.key].totals) for c in cells))
        row.append(_median(m_large.entries))
        row.append(f"{m_large.cpu_ms:.1f} ms")
        if len(cells) > 1 and small.measures[q.key].latencies and m_large.latencies:
            factor, exponent = growth(small.measures[q.key].p(50), m_large.p(50), ratio)
            linear = exponent >= 0.6
            if linear:
                flagged.append(q.key)
            row.append(f"×{factor:.1f} ({exponent:.2f}){' **≈ linear**' if linear else ''}")
        else:
            row.append("—")
        if has_target:
            p95 = m_large.p(95) if m_large.latencies else float("inf")
            row.append("met" if p95 < TARGET_P95_MS and not m_large.errors else "**MISSED**")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"Latencies in ms; Bundle.total and entries are medians over the requests (—: the server sent "
                  "no total). Growth: p50 at "
                  f"{_size_label(large.target.size)} ÷ p50 at "
                  f"{_size_label(small.target.size)}; the exponent e solves growth = {ratio:g}^e (0: flat, "
                  "1: linear in the database size); e ≥ 0.6 is flagged as roughly linear. A query whose matches "
                  "grow with the size (see Bundle.total) does more work by nature."
              + (f" Flagged: {', '.join(flagged)}." if flagged else ""), ""]
    return lines


# -- EXPLAIN ANALYZE of one search, in-process ------------------------------------------------------


def explain(url: str, request: str, *, analyze: bool = True, generic: bool = False) -> str:
    """Run one search in-process the way the API does, capture every SQL statement it sends, and
    return each with its EXPLAIN (ANALYZE, BUFFERS) plan (PostgreSQL) or EXPLAIN QUERY PLAN (SQLite).
    EXPLAIN ANALYZE runs in a transaction that is rolled back (a snapshot INSERT writes nothing).

    ``generic`` (PostgreSQL): the plan of the statement PREPAREd with ``plan_cache_mode =
    force_generic_plan``, i.e. the plan that psycopg's server-side prepared statements get once
    PostgreSQL's plan cache switches to a generic plan (after 5 executions, when its estimated cost
    is not much above the custom plans')."""
    from urllib.parse import parse_qsl

    from sqlalchemy import event

    from server.api.search import search
    from server.app import build_context
    from server.config import Settings

    ctx = build_context(Settings(database_url=url), run_migrations=False)
    engine = ctx.store.engine
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "WITH")):
            captured.append((statement, parameters))

    path, _, qs = request.partition("?")
    resource_type = path.strip("/") or None
    started = time.perf_counter()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with ctx.store.read() as uow:
            answer = search(uow, ctx, "http://localhost/fhir", resource_type, parse_qsl(qs, keep_blank_values=True))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    out = [f"# {request}", f"in-process: {1000 * (time.perf_counter() - started):.1f} ms, "
                           f"total {answer.body.get('total')}, {len(answer.body.get('entry', []))} entries", ""]
    postgres = engine.dialect.name == "postgresql"
    for statement, parameters in captured:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        if "set_config" in statement or "SearchParameter" in values:  # the runtime registry's own checks
            continue
        prefix = ("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ") if postgres else "EXPLAIN QUERY PLAN "
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if postgres and generic:
                _explain_generic(cursor, prefix, statement, parameters)
            else:
                cursor.execute(prefix + statement, parameters)
            plan = "\n".join(str(r[-1]) if not postgres else r[0] for r in cursor.fetchall())
            raw.rollback()
        finally:
            raw.close()
        out += ["```sql", statement.strip(), f"-- parameters: {parameters}", "```", "```", plan, "```", ""]
    engine.dispose()
    return "\n".join(out)


_PREPARED = itertools.count()


def _explain_generic(cursor, prefix: str, statement: str, parameters) -> None:
    """PREPARE ``statement`` ($n for psycopg's %(name)s) and EXPLAIN its generic plan on ``cursor``."""
    import re

    from psycopg import sql

    order: list[str] = []

    def number(match) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", number, statement).replace("%%", "%")
    cursor.execute("SET plan_cache_mode = force_generic_plan")
    name = sql.Identifier(f"bench_generic_{next(_PREPARED)}")
    cursor.execute(sql.SQL("PREPARE {} AS {}").format(name, sql.SQL(prepared)))
    args = sql.SQL(", ").join(sql.Literal(parameters[name]) for name in order)
    cursor.execute(sql.SQL(prefix + "EXECUTE {} ({})").format(name, args))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("explain", help="plans of the SQL one search sends, on a loaded benchmark database")
    ex.add_argument("request", nargs="+", help="e.g. 'Observation?subject=Patient/…&code=…'")
    ex.add_argument("--size", type=int, default=1_000_000)
    ex.add_argument("--backend", default="postgresql")
    ex.add_argument("--no-analyze", action="store_true", help="plans only, without running them")
    ex.add_argument("--generic", action="store_true",
                    help="PostgreSQL: the generic plan (what a prepared statement gets after 5 executions)")
    sp = sub.add_parser("samples", help="print sampled query values for a size")
    sp.add_argument("--size", type=int, default=1_000_000)
    sp.add_argument("--count", type=int, default=5)
    sp.add_argument("--seed", type=int, default=20241128)
    args = parser.parse_args(argv)
    if args.command == "explain":
        t = target(args.backend, args.size)
        for request in args.request:
            print(explain(t.url, request, analyze=not args.no_analyze, generic=args.generic))
    else:
        pop = SearchPopulation(args.seed)
        for s in samples(pop, args.size, args.count, args.seed + args.size):
            print(s)
            for q in QUERIES:
                resource_type, params = q.build(s, 0)
                print(f"  {resource_type}?{urlencode(params)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
