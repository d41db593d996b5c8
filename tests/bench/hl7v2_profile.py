"""Where a message's time and SQL statements go between the inbox and the store.

    .venv/bin/python -m tests.bench.hl7v2_profile --backend postgresql --messages 400 --mdm off
    .venv/bin/python -m tests.bench.hl7v2_profile --backend sqlite --profile 25   # + the 25 costliest functions

One process, one worker thread (no lock waits: what is left is our own cost): the
messages of ``tests.bench.hl7v2`` (ADT^A01 and ORU^R01, half each) are stored in the
inbox first, then processed batch by batch as the inbox workers do. SQL statements are
counted per phase with a ``before_cursor_execute`` listener: ``claim`` (the claim
transaction), ``store`` (the Bundle's transaction, the settle included), ``other``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections import Counter
from dataclasses import replace

from sqlalchemy import event

from server.app import build_context
from server.config import Settings
from server.inbox import intake
from server.inbox.worker import Workers
from server.storage.repository import utcnow
from tests.bench.databases import scratch_database
from tests.bench.hl7v2 import messages


def run(backend: str, n: int, mdm: str, batch: int, top: int, together: bool = True) -> dict:
    with scratch_database(backend, "hl7v2profile") as url:
        settings = replace(Settings(), database_url=url, mdm=mdm)
        ctx = build_context(settings)
        with ctx.store.engine.begin() as conn:
            intake.store(conn, [intake.examine(raw, channel="bench", source=None, now=utcnow())
                                for raw in messages(n)])
        workers = Workers(ctx, threads=0, lease_seconds=600, batch=batch, together=together)
        phase = ["other"]
        statements: Counter = Counter()
        kinds: Counter = Counter()

        seconds: Counter = Counter()

        @event.listens_for(ctx.store.engine, "before_cursor_execute")
        def count(conn, cursor, statement, parameters, context, executemany):
            statements[phase[0]] += 1
            kinds[_kind(statement)] += 1
            conn.info["sent"] = time.perf_counter()

        @event.listens_for(ctx.store.engine, "after_cursor_execute")
        def timed(conn, cursor, statement, parameters, context, executemany):
            seconds[_kind(statement)] += time.perf_counter() - conn.info.pop("sent")

        claim_seconds = [0.0]

        profiler = cProfile.Profile() if top else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        done = 0
        while True:
            phase[0] = "claim"
            t = time.perf_counter()
            items = workers.claim_batch()
            claim_seconds[0] += time.perf_counter() - t
            if not items:
                break
            phase[0] = "store"
            workers.process_batch(items)
            done += len(items)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - start
        ctx.store.engine.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(top)
    return {"backend": backend, "mdm": mdm, "together": together, "messages": done, "msg/s": done / elapsed,
            "statements/msg": {k: round(v / max(done, 1), 2) for k, v in statements.items()},
            "claim s": round(claim_seconds[0], 3), "kinds": [(k, n, seconds[k]) for k, n in kinds.most_common(25)]}


def _kind(statement: str) -> str:
    return " ".join(statement.split()[:4])[:70]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="postgresql", choices=("sqlite", "postgresql"))
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--mdm", default="on", choices=("on", "off"))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--one-by-one", action="store_true", help="one transaction per message (as before)")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions (cumulative)")
    args = parser.parse_args(argv)
    result = run(args.backend, args.messages, args.mdm, args.batch, args.profile, not args.one_by_one)
    print(f"load {os.getloadavg()[0]:.1f}")
    for key, value in result.items():
        if key == "kinds":
            print("statements by kind (first words):")
            for kind, number, spent in value:
                per = max(result['messages'], 1)
                print(f"  {number / per:6.2f}/msg {spent * 1000 / per:7.2f} ms/msg  {kind}")
        else:
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
