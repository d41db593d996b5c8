"""``make bench``: REST-core figures on SQLite and PostgreSQL, side by side with raw SQL.

    .venv/bin/python -m tests.bench.run                      # full run, both backends (~2-3 min)
    .venv/bin/python -m tests.bench.run --quick              # smoke run (< 2 min)
    .venv/bin/python -m tests.bench.run --backends sqlite --profile
    .venv/bin/python -m tests.bench.run --search --sizes 10000,100000,1000000   # search benchmark (search.py)

See tests/bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .population import Population
from .raw import RawFigures, run_raw
from .rest import Throughput, create_patients, http_floor, ingest_bundles, read_patients, uvicorn_server

HERE = Path(__file__).resolve().parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "passerelle_bench"
TARGET_INGEST_PG = 600.0  # resources/s, transaction bundles, PostgreSQL
TARGET_READ_P95_MS = 5.0

FULL = dict(creates=1000, bundles=50, reads=3000, raw=20000, raw_single=2000, profile_bundles=20)
QUICK = dict(creates=100, bundles=4, reads=300, raw=3000, raw_single=300, profile_bundles=6)


def log(message: str) -> None:
    print(message, flush=True)


# -- databases ------------------------------------------------------------------------------


def with_search_path(url: str, schema: str) -> str:
    """The URL with every connection's search_path set to ``schema`` (libpq ``options``)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def reset_pg_schema(url: str, schema: str, *, drop_only: bool = False) -> str:
    """Drop and recreate ``schema``; return the server version string."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            if not drop_only:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        return version
    finally:
        engine.dispose()


# -- one backend ----------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: str
    raw: RawFigures | None = None
    creates: dict[int, Throughput] = field(default_factory=dict)
    bundles: dict[int, Throughput] = field(default_factory=dict)
    reads: Throughput | None = None
    floor: Throughput | None = None
    note: str = ""
    seconds: float = 0.0


def bench_backend(backend: str, app_url: str, raw_url: str, args, workdir: Path) -> BackendResult:
    result = BackendResult(backend)
    started = time.perf_counter()
    pop = Population(args.seed)
    # Everything the clients send is generated before any clock starts.
    warm_patients = [pop.patient() for _ in range(20)]
    warm_bundle = pop.transaction(args.bundle_size)
    patients = {c: [pop.patient() for _ in range(args.creates)] for c in args.clients}
    bundles = {c: [pop.transaction(args.bundle_size) for _ in range(args.bundles)] for c in args.bundle_clients}
    rows = Population(args.seed + 1).stored_rows(args.raw + args.raw_single)

    log(f"  [{backend}] raw SQL baseline ({args.raw} batched + {args.raw_single} single-commit resources)")
    result.raw = run_raw(raw_url, rows, single=args.raw_single, reads=args.reads, log=log)

    log(f"  [{backend}] starting uvicorn server.app:create_app --factory")
    with uvicorn_server(app_url, workdir / f"uvicorn-{backend}.log") as server:
        create_patients(server, warm_patients, 1)
        ingest_bundles(server, [warm_bundle], 1)
        patient_ids: list[str] = []
        for clients in args.clients:
            run = create_patients(server, patients[clients], clients)
            result.creates[clients] = run
            patient_ids += run.ids
            log(f"    POST /Patient, {clients} client(s): {run.count} in {run.seconds:.2f} s = {run.per_s:.0f}/s "
                f"(p50 {run.p(50):.1f} ms, p95 {run.p(95):.1f} ms; server CPU {run.cpu_ms_per_item:.2f} ms each)")
        for clients in args.bundle_clients:
            run = ingest_bundles(server, bundles[clients], clients)
            result.bundles[clients] = run
            patient_ids += run.ids
            log(f"    POST transaction x{args.bundle_size}, {clients} client(s): {run.count} resources in "
                f"{run.seconds:.2f} s = {run.per_s:.0f} resources/s (p50 {run.p(50):.0f} ms/bundle; server CPU "
                f"{run.cpu_ms_per_item:.2f} ms/resource)")
        result.reads = read_patients(server, patient_ids, args.reads)
        log(f"    GET /Patient/{{id}}, 1 client: {args.reads} reads, p50 {result.reads.p(50):.2f} ms, "
            f"p95 {result.reads.p(95):.2f} ms; server CPU {result.reads.cpu_ms_per_item:.2f} ms each")
        result.floor = http_floor(server, args.reads)
        log(f"    GET / (redirect, no database), 1 client: p50 {result.floor.p(50):.2f} ms, "
            f"p95 {result.floor.p(95):.2f} ms")
    result.seconds = time.perf_counter() - started
    return result


# -- report ---------------------------------------------------------------------------------


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}/s"


def _fmt_ms(value: float) -> str:
    return f"{value:.2f} ms"


def table(result: BackendResult, args) -> str:
    raw = result.raw
    lines = [f"### {result.backend}", ""]
    if result.note:
        return "\n".join(lines + [result.note, ""])
    lines += ["| figure | ours | raw baseline | × slower than raw | server CPU per op | target |",
              "|---|---:|---:|---:|---:|---|"]

    def row(figure: str, ours: float, base: float, kind: str, cpu: str = "", target: str = "") -> None:
        if kind == "rate":
            slower = base / ours if ours else float("inf")
            values = f"{_fmt_rate(ours)} | {_fmt_rate(base)} | {slower:.1f}×"
        else:
            slower = ours / base if base else float("inf")
            values = f"{_fmt_ms(ours)} | {_fmt_ms(base)} | {slower:.1f}×"
        lines.append(f"| {figure} | {values} | {cpu} | {target} |")

    for clients, run in result.creates.items():
        row(f"creates/s, POST /Patient, {clients} client{'s' if clients > 1 else ''} "
            f"(raw: 1 resource + 10 index rows per commit)", run.per_s, raw.single_per_s, "rate",
            f"{run.cpu_ms_per_item:.2f} ms")
    for clients, run in result.bundles.items():
        target = ""
        if result.backend == "postgresql":
            target = f"≥ {TARGET_INGEST_PG:.0f}/s: {'met' if run.per_s >= TARGET_INGEST_PG else 'MISSED'}"
        row(f"bundle ingest resources/s, transactions of {args.bundle_size}, {clients} client"
            f"{'s' if clients > 1 else ''} (raw: batches of 100, 1 connection)", run.per_s, raw.batched_per_s,
            "rate", f"{run.cpu_ms_per_item:.2f} ms", target)
    reads = result.reads
    row("read p50, GET /Patient/{id}, 1 client (raw: SELECT by key)", reads.p(50), raw.read_p50_ms, "ms",
        f"{reads.cpu_ms_per_item:.2f} ms")
    p95 = reads.p(95)
    row("read p95, GET /Patient/{id}, 1 client (raw: SELECT by key)", p95, raw.read_p95_ms, "ms", "",
        f"< {TARGET_READ_P95_MS:.0f} ms: {'met' if p95 < TARGET_READ_P95_MS else 'MISSED'}")
    floor = result.floor
    lines += ["", f"HTTP floor, same client (GET / → 307: uvicorn + FastAPI + httpx, no database): "
                  f"p50 {floor.p(50):.2f} ms, p95 {floor.p(95):.2f} ms, server CPU {floor.cpu_ms_per_item:.2f} ms. "
                  "Bundle ingest without HTTP: see the profile section (`--profile`).", ""]
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def header(args, pg_version: str | None, load_before: str) -> str:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    sizes = (f"{args.creates} creates per client setting ({', '.join(map(str, args.clients))} clients); "
             f"{args.bundles} transaction bundles of {args.bundle_size} per client setting "
             f"({', '.join(map(str, args.bundle_clients))} clients); {args.reads} reads; raw baseline "
             f"{args.raw} batched + {args.raw_single} single-commit resources; seed {args.seed}")
    return "\n".join([
        "# Passerelle REST-core benchmark",
        "",
        f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- machine: nproc {nproc}, CPU {cpu_model()}, load average before {load_before}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
        + (f", PostgreSQL {pg_version}" if pg_version else ""),
        f"- mode: {'quick (smoke)' if args.quick else 'full'}; {sizes}",
        "- server: one `uvicorn server.app:create_app --factory` process; clients: httpx, one keep-alive "
        "connection per thread, in the benchmark process",
        "",
    ])


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


# -- main -----------------------------------------------------------------------------------


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="small smoke run (sizes: %s)" % QUICK)
    parser.add_argument("--creates", type=int, help=f"POST /Patient per client setting (full {FULL['creates']})")
    parser.add_argument("--clients", type=_ints, default=[1, 4], help="client threads for creates (default 1,4)")
    parser.add_argument("--bundles", type=int, help=f"transaction bundles per client setting (full {FULL['bundles']})")
    parser.add_argument("--bundle-size", type=int, default=100, help="entries per transaction bundle (100)")
    parser.add_argument("--bundle-clients", type=_ints, default=[1, 4], help="client threads for bundles (1,4)")
    parser.add_argument("--reads", type=int, help=f"GET Patient/{{id}} after the load (full {FULL['reads']})")
    parser.add_argument("--raw", type=int, help=f"raw baseline: resources inserted in batches ({FULL['raw']})")
    parser.add_argument("--raw-single", type=int, help=f"raw baseline: resources, one commit each "
                                                       f"({FULL['raw_single']})")
    parser.add_argument("--seed", type=int, default=20241128)
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile the bundle-ingest path in-process and report our hotspots")
    parser.add_argument("--profile-backend", default=None,
                        help="backend to profile on (default: postgresql if run, else sqlite)")
    parser.add_argument("--profile-bundles", type=int,
                        help="bundles for the profile: half timed plain, half profiled (full 20)")
    parser.add_argument("--output", type=Path, default=None,
                        help="markdown report (results.md; with --search: search-results.md)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files and the PostgreSQL schema")
    search = parser.add_argument_group("search benchmark (--search; see tests/bench/search.py)")
    search.add_argument("--search", action="store_true",
                        help="run the search benchmark instead: clinical queries at several database sizes")
    search.add_argument("--sizes", type=_ints, default=[10_000, 100_000, 1_000_000],
                        help="resources per database (default 10000,100000,1000000)")
    search.add_argument("--reload", action="store_true", help="load the databases again even if cached")
    search.add_argument("--load-workers", type=int, default=2, help="loading processes on PostgreSQL (2)")
    search.add_argument("--load-batch", type=int, default=2000, help="resources per loading transaction (2000)")
    search.add_argument("--iterations", type=int, default=100, help="measured requests per query (100)")
    search.add_argument("--warmup", type=int, default=10, help="uncounted requests per query first (10)")
    search.add_argument("--samples", type=int, default=200, help="Patients sampled for query values (200)")
    search.add_argument("--budget", type=float, default=60.0, help="seconds per query before stopping early (60)")
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = HERE / ("search-results.md" if args.search else "results.md")
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.search:
        from .search import run as run_search

        return run_search(args)
    pg_base = os.environ.get("PASSERELLE_BENCH_DATABASE_URL", DEFAULT_PG)
    workdir = Path(tempfile.mkdtemp(prefix="passerelle-bench-"))
    load_before = _loadavg()
    results: list[BackendResult] = []
    pg_version = None
    pg_url = None
    started = time.perf_counter()
    log(f"Passerelle bench ({'quick' if args.quick else 'full'}), work dir {workdir}")
    try:
        for backend in args.backends:
            log(f"== {backend}")
            if backend == "sqlite":
                app_url = f"sqlite:///{workdir / 'passerelle.db'}"
                raw_url = f"sqlite:///{workdir / 'raw.db'}"
            else:
                try:
                    pg_version = reset_pg_schema(pg_base, PG_SCHEMA)
                except Exception as exc:  # noqa: BLE001 - no PostgreSQL: say so, go on
                    note = f"not run: PostgreSQL unreachable at {make_url(pg_base).render_as_string()} ({exc})"
                    log(f"  {note}")
                    results.append(BackendResult(backend, note=note))
                    continue
                pg_url = app_url = raw_url = with_search_path(pg_base, PG_SCHEMA)
                log(f"  schema {PG_SCHEMA} (recreated) in {make_url(pg_base).render_as_string()}")
            results.append(bench_backend(backend, app_url, raw_url, args, workdir))

        profile_report = None
        if args.profile:
            target = args.profile_backend or ("postgresql" if pg_url else "sqlite")
            log(f"== profile: bundle ingest in-process on {target} ({args.profile_bundles} bundles)")
            from .hotspots import profile_ingest

            if target == "postgresql":
                reset_pg_schema(pg_base, PG_SCHEMA)
                url = with_search_path(pg_base, PG_SCHEMA)
            else:
                url = f"sqlite:///{workdir / 'profile.db'}"
            pop = Population(args.seed + 2)
            report, rate = profile_ingest(url, [pop.transaction(args.bundle_size)
                                                for _ in range(args.profile_bundles + 2)])
            profile_report = f"## Profile: transaction-bundle ingest, in-process, {target}\n\n{report}"

        document = header(args, pg_version, load_before) + "\n" + "\n".join(table(r, args) for r in results)
        document += (f"\nLoad average after: {_loadavg()}. Wall time {time.perf_counter() - started:.0f} s. "
                     "The machine is shared and noisy: compare ratios, rerun before concluding.\n")
        if profile_report:
            document += "\n" + profile_report
        print()
        print(document)
        args.output.write_text(document)
        log(f"(written to {args.output})")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if pg_url:
                try:
                    reset_pg_schema(pg_base, PG_SCHEMA, drop_only=True)
                except Exception:  # noqa: BLE001
                    pass
        else:
            log(f"kept: {workdir}" + (f", schema {PG_SCHEMA}" if pg_url else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
