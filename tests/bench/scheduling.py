"""Scheduling benchmark: Appointment/$find over a year of schedules, concurrent $book.

    .venv/bin/python -m tests.bench.scheduling                 # 200 practitioners, a year, both backends
    .venv/bin/python -m tests.bench.scheduling --quick         # smoke run
    .venv/bin/python -m tests.bench.scheduling --backends postgresql --practitioners 50

The calendars (a Practitioner, a Schedule and its Slots per practitioner, weekdays, a
share of the slots already busy) are written in-process through the store, in batches;
the queries and bookings go over HTTP to a ``uvicorn server.app:create_app --factory``
subprocess, clients in threads. PostgreSQL works in a database of its own, created beside
the one ``PASSERELLE_BENCH_DATABASE_URL`` names and dropped at the end (not a schema: the
engine's connect options replace a ``search_path`` given in the URL).
Writes the tables to ``tests/bench/scheduling-results.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.app import build_context
from server.config import Settings
from server.search.service import find_ids

from .rest import HEADERS, uvicorn_server
from .run import cpu_model
from .stats import percentile

RESULTS = Path(__file__).with_name("scheduling-results.md")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "passerelle_bench_scheduling"
YEAR_START = date(2031, 1, 6)  # a Monday
SPECIALTIES = [f"S{i}" for i in range(5)]
SPECIALTY_SYSTEM = "http://passerelle.example/CodeSystem/bench-specialty"


def log(message: str) -> None:
    print(message, flush=True)


def at(day: date, minutes: int) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Calendars:
    practitioners: list[str] = field(default_factory=list)
    specialty_of: dict[str, str] = field(default_factory=dict)
    slots_by_practitioner: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # (id, start, end)
    count: int = 0
    seconds: float = 0.0


def load(ctx, args, rng: random.Random, *, write: bool = True) -> Calendars:
    """Write the calendars through the store (the same write path as every ingest);
    ``write=False`` only rebuilds what was written before with the same seed (--sqlite-file)."""
    out = Calendars()
    days = [YEAR_START + timedelta(days=d) for d in range(args.days) if (YEAR_START + timedelta(days=d)).weekday() < 5]
    started = time.perf_counter()
    pending: list[tuple[dict, str | None]] = []

    def flush() -> None:
        if write:
            with ctx.store.write() as uow:
                for resource, fhir_id in pending:
                    uow.create(resource, fhir_id=fhir_id)
        out.count += len(pending)
        pending.clear()

    for p in range(args.practitioners):
        pract_id, sched_id = f"bench-pract-{p}", f"bench-sched-{p}"
        specialty = SPECIALTIES[p % len(SPECIALTIES)]
        ref = f"Practitioner/{pract_id}"
        out.practitioners.append(ref)
        out.specialty_of[ref] = specialty
        pending.append(({"resourceType": "Practitioner", "name": [{"family": f"Bench{p}"}]}, pract_id))
        pending.append(({"resourceType": "Schedule", "actor": [{"reference": ref}], "specialty": [
            {"coding": [{"system": SPECIALTY_SYSTEM, "code": specialty}]}]}, sched_id))
        slots = out.slots_by_practitioner.setdefault(ref, [])
        for day in days:
            for k in range(args.slots_per_day):
                start, end = at(day, 9 * 60 + 30 * k), at(day, 9 * 60 + 30 * (k + 1))
                slot_id = f"bench-slot-{p}-{day:%m%d}-{k}"
                busy = rng.random() < args.busy_share
                pending.append(({"resourceType": "Slot", "schedule": {"reference": f"Schedule/{sched_id}"},
                                 "status": "busy" if busy else "free", "start": start, "end": end}, slot_id))
                if not busy:
                    slots.append((slot_id, start, end))
                if len(pending) >= args.batch:
                    flush()
        if p % 20 == 19 and write:
            log(f"  {out.count:,} resources written ({out.count / (time.perf_counter() - started):,.0f}/s)")
    if pending:
        flush()
    out.seconds = time.perf_counter() - started
    return out


def parameters(**values) -> dict:
    out = []
    for name, value in values.items():
        key = name if name.startswith("_") else name.replace("_", "-")
        out.append({"name": key, **value})
    return {"resourceType": "Parameters", "parameter": out}


def find_queries(cal: Calendars, rng: random.Random, n: int, span_days: int) -> dict[str, list[dict]]:
    def week() -> tuple[str, str]:
        day = YEAR_START + timedelta(days=rng.randrange(max(1, span_days - 7)))
        return at(day, 0), at(day + timedelta(days=7), 0)

    def one_day() -> tuple[str, str]:
        day = YEAR_START + timedelta(days=rng.randrange(max(1, span_days - 1)))
        return at(day, 0), at(day + timedelta(days=1), 0)

    whole = (at(YEAR_START, 0), at(YEAR_START + timedelta(days=span_days), 0))
    queries: dict[str, list[dict]] = {
        "one practitioner, a week, _count=5": [], "one specialty, a day, _count=10": [],
        "one practitioner, the whole window, 60 min (2 slots), _count=3": [], "every calendar, a day, _count=10": []}
    for _ in range(n):
        start, end = week()
        queries["one practitioner, a week, _count=5"].append(parameters(
            start={"valueDateTime": start}, end={"valueDateTime": end}, _count={"valueInteger": 5},
            practitioner={"valueReference": {"reference": rng.choice(cal.practitioners)}}))
        start, end = one_day()
        queries["one specialty, a day, _count=10"].append(parameters(
            start={"valueDateTime": start}, end={"valueDateTime": end}, _count={"valueInteger": 10},
            specialty={"valueCoding": {"system": SPECIALTY_SYSTEM, "code": rng.choice(SPECIALTIES)}}))
        queries["one practitioner, the whole window, 60 min (2 slots), _count=3"].append(parameters(
            start={"valueDateTime": whole[0]}, end={"valueDateTime": whole[1]}, _count={"valueInteger": 3},
            minutes_duration={"valueInteger": 60},
            practitioner={"valueReference": {"reference": rng.choice(cal.practitioners)}}))
        start, end = one_day()
        queries["every calendar, a day, _count=10"].append(parameters(
            start={"valueDateTime": start}, end={"valueDateTime": end}, _count={"valueInteger": 10}))
    return queries


def run_finds(base: str, queries: dict[str, list[dict]]) -> dict[str, tuple[float, float, float]]:
    """(p50 ms, p95 ms, proposals per query) per kind, one client."""
    out = {}
    with httpx.Client(base_url=base, headers=HEADERS, timeout=120) as client:
        for kind, bodies in queries.items():
            client.post("/Appointment/$find", json=bodies[0])  # warm-up
            latencies, found = [], 0
            for body in bodies:
                t0 = time.perf_counter()
                response = client.post("/Appointment/$find", json=body)
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise RuntimeError(f"$find {response.status_code}: {response.text[:300]}")
                found += len(response.json().get("entry", []))
            out[kind] = (percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000, found / len(bodies))
    return out


@dataclass
class Booking:
    clients: int
    pool: int
    attempts: int
    booked: int
    conflicts: int
    seconds: float
    latencies: list[float]


def run_books(base: str, pool: list[tuple[str, str, str, str]], clients: int, attempts: int,
              rng: random.Random) -> Booking:
    """Each client books ``attempts`` slots drawn from the same pool: they collide on purpose."""
    orders = [rng.sample(pool, min(attempts, len(pool))) for _ in range(clients)]
    counts = {"booked": 0, "conflicts": 0}
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    barrier = threading.Barrier(clients + 1)

    def work(k: int) -> None:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=120) as client:
            client.get("/metadata")
            barrier.wait()
            for slot_id, start, end, practitioner in orders[k]:
                body = parameters(appointment_resource={"resource": {
                    "resourceType": "Appointment", "status": "proposed", "start": start, "end": end,
                    "slot": [{"reference": f"Slot/{slot_id}"}],
                    "participant": [{"actor": {"reference": practitioner}, "status": "needs-action"},
                                    {"actor": {"reference": f"Patient/bench-patient-{k}"}, "status": "needs-action"}]}})
                t0 = time.perf_counter()
                response = client.post("/Appointment/$book", json=body)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    if response.status_code == 201:
                        counts["booked"] += 1
                    elif response.status_code == 409:
                        counts["conflicts"] += 1
                    else:
                        errors.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"$book failed: {errors[:3]}")
    return Booking(clients, len(pool), sum(len(o) for o in orders), counts["booked"], counts["conflicts"],
                   seconds, latencies)


def double_booked(ctx) -> int:
    """Slots referenced by more than one booked Appointment (must be 0)."""
    seen: dict[str, int] = {}
    with ctx.store.read() as uow:
        ids = find_ids(uow, "Appointment", [("status", "booked")], limit=1_000_000)
        for stored in uow.read_many([pid for _, pid in ids]):
            for slot in stored.resource().get("slot", []):
                seen[slot["reference"]] = seen.get(slot["reference"], 0) + 1
    return sum(1 for n in seen.values() if n > 1)


def bench_backend(backend: str, url: str, args, workdir: Path, *, loaded: bool = False) -> list[str]:
    rng = random.Random(args.seed)
    ctx = build_context(Settings(database_url=url, auth="disabled"))
    try:
        log(f"{backend}: {'reusing' if loaded else 'writing'} {args.practitioners} calendars over {args.days} days ...")
        cal = load(ctx, args, rng, write=not loaded)
        log(f"{backend}: {cal.count:,} resources in {cal.seconds:.0f} s")
        # Fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) keeps them
        # in production: without them PostgreSQL plans these searches 10x slower.
        with ctx.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        os.environ["PASSERELLE_AUTH"] = "disabled"  # the subprocess: no tokens in a benchmark
        os.environ["PASSERELLE_RATE_LIMIT_PER_MINUTE"] = "0"
        with uvicorn_server(url, workdir / f"server-{backend}.log") as server:
            finds = run_finds(server.base, find_queries(cal, rng, args.finds, args.days))
            # A pool of free slots per client setting, drawn afresh each run (a reused
            # --sqlite-file keeps earlier bookings): each setting starts with all of them free.
            draw = random.Random(time.time_ns())
            free = [(s[0], s[1], s[2], p) for p in cal.practitioners[:args.book_practitioners]
                    for s in cal.slots_by_practitioner[p]]
            pools = draw.sample(free, args.book_practitioners * args.book_slots * len(args.book_clients))
            size = args.book_practitioners * args.book_slots
            books = [run_books(server.base, pools[i * size:(i + 1) * size], clients, args.books, rng)
                     for i, clients in enumerate(args.book_clients)]
        doubles = double_booked(ctx)
    finally:
        ctx.store.engine.dispose()
    lines = [f"## {backend}", "",
             f"Calendars: {len(cal.practitioners)} practitioners, {cal.count:,} resources "
             f"({args.slots_per_day} slots a weekday over {args.days} days, {args.busy_share:.0%} busy), "
             + (f"written in-process in {cal.seconds:.0f} s ({cal.count / cal.seconds:,.0f}/s)." if not loaded
                else "reused from --sqlite-file."), "",
             "| $find | p50 ms | p95 ms | proposals |", "|---|---:|---:|---:|"]
    lines += [f"| {kind} | {p50:.0f} | {p95:.0f} | {found:.1f} |" for kind, (p50, p95, found) in finds.items()]
    lines += ["", "| $book, clients on one slot pool | attempts | booked | 409 | booked/s | attempts/s "
                  "| p50 ms | p95 ms |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for b in books:
        lines.append(f"| {b.clients} clients, {b.pool} slots | {b.attempts} | {b.booked} | {b.conflicts} | "
                     f"{b.booked / b.seconds:.0f} | {b.attempts / b.seconds:.0f} | "
                     f"{percentile(b.latencies, 50) * 1000:.0f} | {percentile(b.latencies, 95) * 1000:.0f} |")
    lines += ["", f"Slots booked twice after all the bookings: **{doubles}** (must be 0).", ""]
    return lines


def pg_database(base_url: str, name: str, *, drop_only: bool = False) -> str:
    """(Re)create database ``name`` on the server of ``base_url``; its URL."""
    admin = create_engine(make_url(base_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(base_url).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scheduling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--practitioners", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--slots-per-day", type=int, default=8, help="30-minute slots from 09:00")
    parser.add_argument("--busy-share", type=float, default=0.3)
    parser.add_argument("--batch", type=int, default=2000, help="resources per write transaction while loading")
    parser.add_argument("--finds", type=int, default=40, help="queries of each kind")
    parser.add_argument("--books", type=int, default=150, help="$book attempts per client")
    parser.add_argument("--book-clients", default="2,8")
    parser.add_argument("--book-practitioners", type=int, default=10)
    parser.add_argument("--book-slots", type=int, default=40, help="free slots per practitioner in the pool")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="10 practitioners, 30 days, few queries")
    parser.add_argument("--sqlite-file", help="keep the SQLite calendars in this file; reuse it when it exists "
                                              "(same sizes and seed; bookings of a previous run stay in it)")
    args = parser.parse_args(argv)
    if args.quick:
        args.practitioners, args.days, args.finds, args.books = 10, 30, 10, 30
    args.book_clients = [int(c) for c in args.book_clients.split(",") if c.strip()]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "n/a"
    pg_base = os.environ.get("PASSERELLE_BENCH_DATABASE_URL", DEFAULT_PG)
    lines = ["# Passerelle scheduling benchmark", "",
             f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
             f"- machine: nproc {os.cpu_count()}, CPU {cpu_model()}, load average before {load_before}",
             f"- Python {platform.python_version()}; seed {args.seed}"
             + ("; quick (smoke) run" if args.quick else ""),
             "- server: one `uvicorn server.app:create_app --factory` process; clients: httpx in threads", ""]
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-sched-") as tmp:
        workdir = Path(tmp)
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            if backend == "sqlite":
                path = Path(args.sqlite_file) if args.sqlite_file else workdir / "scheduling.db"
                loaded = path.exists() and path.stat().st_size > 0
                lines += bench_backend(backend, f"sqlite:///{path}", args, workdir, loaded=loaded)
                continue
            try:
                url = pg_database(pg_base, BENCH_DATABASE)
            except Exception as exc:  # noqa: BLE001 - reported in the results
                lines += [f"## {backend}", "", f"PostgreSQL unreachable: {type(exc).__name__}", ""]
                continue
            try:
                lines += bench_backend(backend, url, args, workdir)
            finally:
                pg_database(pg_base, BENCH_DATABASE, drop_only=True)
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
