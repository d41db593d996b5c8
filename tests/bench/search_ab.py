"""Search latency of two versions of the server side by side, on copies of one loaded database.

On a shared, busy machine latencies measured minutes apart differ by more than most
changes do. This runs the benchmark's queries (``tests.bench.search.QUERIES``) against
two uvicorn servers at once, ``before`` (the code in ``--before-tree``, e.g. an
extracted ``git archive`` of the previous commit) and ``after`` (this tree), each on its
own copy of the same loaded database, alternating requests one by one (same sample,
before then after, then after then before), so that both see the same load. It reports
p50 / p95 of each and the ratio of the medians.

    git archive HEAD~1 | tar -x -C /tmp/before
    .venv/bin/python -m tests.bench.search_ab --before-tree /tmp/before --backend sqlite --size 100000

The loaded database (``tests.bench.search``; load it first) is copied twice and left as it
is: SQLite files ``.bench/search-<size>-ab-{before,after}.db``, PostgreSQL databases
``passerelle_bench_<size>_ab_{before,after}`` (CREATE DATABASE … TEMPLATE). Each server
migrates its copy at start-up, as in production.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from .rest import ROOT, uvicorn_server
from .search import CACHE, FHIR_JSON, QUERIES, samples, target
from .search_population import SearchPopulation
from .stats import percentile


def copy_database(backend: str, size: int, name: str) -> str:
    """A fresh copy of the loaded database of ``size``; its URL."""
    t = target(backend, size)
    if backend == "sqlite":
        dest = CACHE / f"search-{size}-ab-{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{dest}{suffix}").unlink(missing_ok=True)
        with sqlite3.connect(t.sqlite_path) as src:
            src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(t.sqlite_path, dest)
        return f"sqlite:///{dest}"
    copy = f"{t.dbname}_ab_{name}"
    admin = create_engine(t.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{copy}" TEMPLATE "{t.dbname}"')
    admin.dispose()
    return make_url(t.url).set(database=copy).render_as_string(hide_password=False)


def server_in(tree: Path, database_url: str, log_path: Path):
    """``uvicorn server.app:create_app`` of the code in ``tree`` (its working directory)."""
    # A migration may build indexes on a large copy: a long start.
    return uvicorn_server(database_url, log_path, tree=tree, start_seconds=900)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.search_ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before-tree", type=Path, required=True)
    parser.add_argument("--after-tree", type=Path, default=ROOT,
                        help="default: this tree (with whatever else is uncommitted in it)")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=60, help="measured requests per query and server")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20241128)
    parser.add_argument("--queries", default=",".join(q.key for q in QUERIES))
    parser.add_argument("--prepared", action="store_true",
                        help="use the copies as they are (after a first run, or prepared by hand)")
    args = parser.parse_args(argv)
    pool = samples(SearchPopulation(args.seed), args.size, 200, args.seed + args.size)
    names = ("before", "after")
    if args.prepared:
        urls = {n: (f"sqlite:///{CACHE / f'search-{args.size}-ab-{n}.db'}" if args.backend == "sqlite" else
                    make_url(target(args.backend, args.size).url).set(
                        database=f"passerelle_bench_{args.size}_ab_{n}").render_as_string(hide_password=False))
                for n in names}
    else:
        urls = {n: copy_database(args.backend, args.size, n) for n in names}
    trees = {"before": args.before_tree.resolve(), "after": args.after_tree.resolve()}
    load_before = os.getloadavg()
    lines = []
    with ExitStack() as stack:
        servers = {n: stack.enter_context(server_in(trees[n], urls[n], CACHE / f"uvicorn-ab-{n}.log")) for n in names}
        clients = {n: stack.enter_context(httpx.Client(base_url=servers[n].base, headers={"Accept": FHIR_JSON},
                                                       timeout=120)) for n in names}
        print(f"{args.backend} {args.size:,}: load average {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
        for q in QUERIES:
            if q.key not in args.queries.split(","):
                continue
            lat: dict[str, list[float]] = {n: [] for n in names}
            errors: dict[str, int] = {n: 0 for n in names}
            cpu0 = {n: servers[n].cpu_seconds() for n in names}
            for i in range(-args.warmup, args.iterations):
                resource_type, params = q.build(pool[i % len(pool)], i)
                for n in (names if i % 2 == 0 else names[::-1]):
                    t0 = time.perf_counter()
                    r = clients[n].get(f"/{resource_type}", params=params)
                    elapsed = time.perf_counter() - t0
                    if r.status_code != 200:  # e.g. 400 too-costly: the search time limit
                        errors[n] += i >= 0
                    elif i >= 0:
                        lat[n].append(elapsed)
            cpu = {n: 1000 * (servers[n].cpu_seconds() - cpu0[n]) / (args.iterations + args.warmup) for n in names}
            cells = {n: (f"{1000 * percentile(lat[n], 50):.1f} / {1000 * percentile(lat[n], 95):.1f}"
                         if lat[n] else "—") + (f" ({errors[n]} errors)" if errors[n] else "") for n in names}
            ratio = (f"×{statistics.median(lat['after']) / statistics.median(lat['before']):.2f}"
                     if lat["after"] and lat["before"] else "—")
            line = (f"| `{q.key}` | {cells['before']} | {cells['after']} | {ratio} | "
                    f"{cpu['before']:.1f} / {cpu['after']:.1f} |")
            lines.append(line)
            print(line, flush=True)
    load_after = os.getloadavg()
    print(f"load average after {' '.join(f'{x:.2f}' for x in load_after)}")
    print("\n| query | before p50 / p95 | after p50 / p95 | after ÷ before (p50) | server CPU ms before / after |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
