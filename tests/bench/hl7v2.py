"""HL7 v2 channel benchmark: raw parse rate, durable acks over MLLP, messages mapped and stored.

    .venv/bin/python -m tests.bench.hl7v2                          # SQLite and PostgreSQL, 5,000 messages
    .venv/bin/python -m tests.bench.hl7v2 --messages 20000 --connections 64 --backends sqlite

1. parse: ``mappers.hl7v2.parse`` over the generated messages, in this process.
2. durable acks: a real listener subprocess (``passerelle mllp``, no inbox workers) on a
   fresh database; ``--connections`` MLLP connections in this process send the messages
   one at a time each (wait for the ack, send the next). Every ack is sent after its
   message is committed to the inbox (group commit). Figure: acks per second.
3. mapped and stored: the inbox workers of ``--processes`` subprocesses (``passerelle
   mllp --mllp-port 0``, ``--threads`` each) map and store what phase 2 received; figure:
   messages settled per second, from their start until the inbox is drained (or
   ``--map-seconds`` passed: then what settled meanwhile). Once per ``--inbox-batch``
   value (messages claimed at once and stored in shared transactions; 1: one transaction
   per message, as before grouping), each on a fresh database (phase 2 again).
4. statements: ``tests.bench.hl7v2_profile`` in this process, one worker thread, grouped
   and one by one: SQL statements per message and the single-thread rate.

Messages: ADT^A01 (one new patient each, with a visit) and ORU^R01 (a glucose result for
one of those patients), half each. Results go to tests/bench/hl7v2-results.md.
PostgreSQL: ``PASSERELLE_BENCH_DATABASE_URL`` (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the bench creates a database of its own beside it and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select

from interfaces.mllp.client import Connection
from mappers.hl7v2 import parse
from server.inbox.models import InboxMessage
from tests.bench.databases import scratch_database
from tests.mllp.messages import adt, oru

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "hl7v2-results.md"


def messages(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        patient = f"B-{i // 2}"
        out.append(adt(f"BA-{i}", patient, family=f"Bench{i // 2}") if i % 2 == 0 else oru(f"BO-{i}", patient))
    return out


def parse_rate(batch: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in batch:
        parse(raw).patient_key()
    return len(batch) / (time.perf_counter() - start)


def channel_process(url: str, port: int, threads: int, batch: int = 16) -> subprocess.Popen:
    env = {**os.environ, "PASSERELLE_INBOX_WORKERS": str(threads)}
    process = subprocess.Popen([sys.executable, "-m", "interfaces.cli.main", "mllp", "--database-url", url,
                                "--mllp-port", str(port), "--inbox-workers", str(threads),
                                "--inbox-batch", str(batch)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if "MLLP on" not in line:
        raise RuntimeError(f"the channel did not start: {line!r}")
    return process



async def send_all(port: int, batch: list[bytes], connections: int) -> float:
    async def one(share: list[bytes]):
        connection = await Connection.open("127.0.0.1", port)
        for raw in share:
            reply = await connection.send(raw)
            assert reply.codes == ["AA"], reply.codes
        await connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(one(batch[i::connections]) for i in range(connections)))
    return len(batch) / (time.perf_counter() - start)


def drain_rate(url: str, total: int, processes: int, threads: int, limit: float, batch: int) -> tuple[float, dict]:
    """Messages settled per second, until the inbox is drained or ``limit`` seconds passed."""
    engine = create_engine(url)
    workers = [channel_process(url, 0, threads, batch) for _ in range(processes)]
    start = time.perf_counter()
    try:
        while True:
            with engine.connect() as conn:
                states = dict(conn.execute(select(InboxMessage.state, func.count())
                                           .group_by(InboxMessage.state)).all())
            settled = states.get("done", 0) + states.get("dead", 0)
            if settled >= total or time.perf_counter() - start > limit:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(60)
        engine.dispose()
    return settled / elapsed, states


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_backend(backend: str, batch: list[bytes], args, inbox_batch: int) -> dict:
    with scratch_database(backend, "hl7v2") as url:
        port = free_port()
        listener = channel_process(url, port, 0)
        try:
            acks = asyncio.run(send_all(port, batch, args.connections))
        finally:
            listener.send_signal(signal.SIGTERM)
            listener.wait(60)
        print(f"{backend}: durable acks {acks:,.0f} msg/s", flush=True)
        stored, states = drain_rate(url, len(batch), args.processes, args.threads, args.map_seconds, inbox_batch)
    return {"acks": acks, "stored": stored, "states": states}


def statement_rows(backends: list[str], n: int) -> list[str]:
    from tests.bench.hl7v2_profile import run

    rows = []
    for backend in backends:
        for together in (False, True):
            try:
                r = run(backend, n, "on", 16, 0, together)
            except Exception as exc:  # noqa: BLE001  (PostgreSQL unreachable: say so, go on)
                mode = "grouped" if together else "one by one"
                rows.append(f"| {backend} | {mode} | failed: {type(exc).__name__} | |")
                continue
            total = sum(r["statements/msg"].values())
            rows.append(f"| {backend} | {'grouped (batch 16)' if together else 'one by one'} | {total:.1f} | "
                        f"{r['msg/s']:,.0f} |")
            print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2, help="worker processes mapping and storing")
    parser.add_argument("--threads", type=int, default=2, help="inbox worker threads per process")
    parser.add_argument("--inbox-batch", default="1,16",
                        help="messages claimed at once, comma-separated values to compare (1: one per transaction)")
    parser.add_argument("--map-seconds", type=float, default=120,
                        help="stop measuring the mapping after this long (the rate is what settled meanwhile)")
    parser.add_argument("--profile-messages", type=int, default=400,
                        help="messages for the statement counts (phase 4; 0: skip it)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    batch = messages(args.messages)
    parsed = parse_rate(batch)
    print(f"parse: {parsed:,.0f} msg/s", flush=True)
    backends = args.backends.split(",")
    rows = []
    for inbox_batch in [int(b) for b in args.inbox_batch.split(",")]:
        for backend in backends:
            try:
                result = run_backend(backend, batch, args, inbox_batch)
            except Exception as exc:  # noqa: BLE001  (PostgreSQL unreachable: say so, go on)
                print(f"{backend}: failed: {type(exc).__name__}: {exc}", flush=True)
                rows.append(f"| {backend} | {inbox_batch} | {parsed:,.0f} | failed: {type(exc).__name__} | | |")
                continue
            print(f"{backend}, inbox batch {inbox_batch}: mapped and stored {result['stored']:,.0f} msg/s "
                  f"({result['states']})", flush=True)
            rows.append(f"| {backend} | {inbox_batch} | {parsed:,.0f} | {result['acks']:,.0f} | "
                        f"{result['stored']:,.0f} | {result['states'].get('dead', 0)} |")
    load_mid = os.getloadavg()
    statements = statement_rows(backends, args.profile_messages) if args.profile_messages else []
    load = os.getloadavg()
    command = " ".join(["python -m tests.bench.hl7v2", *(argv if argv is not None else sys.argv[1:])])
    RESULTS.write_text("\n".join([
        "# HL7 v2 channel benchmark",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), load {load_mid[0]:.1f} after phases 1-3 and "
        f"{load[0]:.1f} at the end, Python {platform.python_version()}. Command: `{command}`",
        "",
        f"{args.messages:,} messages (ADT^A01 and ORU^R01, half each); {args.connections} MLLP connections, one "
        f"message in flight each; mapping by {args.processes} processes x {args.threads} threads, identity "
        "matching on. Inbox batch: messages a worker claims at once and stores in shared transactions "
        "(1 = one transaction per message, as before).",
        "",
        "| backend | inbox batch | parse msg/s | durable acks msg/s (MLLP) | mapped + stored msg/s | dead letters |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        *([f"SQL statements per message, {args.profile_messages} messages, ONE worker thread in one process "
           "(`python -m tests.bench.hl7v2_profile`), identity matching on:",
           "",
           "| backend | storing | statements / message | msg/s (1 thread) |",
           "|---|---|---:|---:|",
           *statements,
           ""] if statements else []),
        "Targets on this 2-core machine: >= 1,000 msg/s acknowledged durably, >= 300 msg/s mapped and stored on "
        "PostgreSQL.",
        "",
    ]))
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
