"""Subscriptions benchmark: what the outbox costs a write, fan-out and delivery rates.

    .venv/bin/python -m tests.bench.subscriptions                      # SQLite and PostgreSQL
    .venv/bin/python -m tests.bench.subscriptions --backends sqlite --writes 300

1. Writes through the store, one Observation per transaction (as a REST create), side by
   side in one run: no subscription; an active one on another type (the listener's one
   look-up per type and transaction); 10 active criteria subscriptions on Observation with
   distinct criteria, one of which selects each write (10 searches before COMMIT, an
   outbox row).
2. Fan-out: the outbox rows of (1) numbered and queued: events/s, notifications queued.
3. Delivery: the worker sends the queued notifications to a local HTTP receiver
   (ThreadingHTTPServer, answers 200): notifications/s. One subscription's notifications
   go out one at a time, in order (the IG's event numbering), so this is per-round-trip.

Each measure uses a database of its own (tests.bench.databases). Results go to
tests/bench/subscriptions-results.md, with the load average (2 shared cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select, update

from interfaces.subscriptions import DeliveryWorker
from server.app import build_context
from server.config import Settings
from server.subscriptions import SubscriptionListener, fan_out
from server.subscriptions.models import DELIVERED, SubscriptionNotification, SubscriptionState
from tests.bench.databases import scratch_database

RESULTS = Path(__file__).resolve().parent / "subscriptions-results.md"


def observation(i: int) -> dict:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": f"c{i % 10}"}]}}


def receiver() -> tuple[ThreadingHTTPServer, list[int]]:
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _ok(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            count[0] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = _ok

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, count


def subscribe(ctx, criteria: str, endpoint: str, n: int = 1) -> None:
    """Active subscriptions, without waiting for their handshakes (set active directly)."""
    with ctx.store.write() as uow:
        for _ in range(n):
            uow.create({"resourceType": "Subscription", "status": "requested", "reason": "bench",
                        "criteria": criteria, "channel": {"type": "rest-hook", "endpoint": endpoint,
                                                          "payload": "application/fhir+json"}})
    with ctx.store.engine.begin() as conn:
        conn.execute(update(SubscriptionState).values(status="active"))
        conn.execute(update(SubscriptionNotification).values(state=DELIVERED))  # the handshakes


def writes(ctx, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        with ctx.store.write() as uow:
            uow.create(observation(i))
    return n / (time.perf_counter() - start)


def bench_backend(backend: str, args) -> list[str]:
    rows = []
    httpd, count = receiver()
    endpoint = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    rates = {}
    for case in ("none", "other type", "Observation"):
        with scratch_database(backend, f"subs_{case.split()[0].lower()}") as url:
            ctx = build_context(Settings(database_url=url, auth="disabled", mdm="off", nlp_notes=False,
                                         subscription_hosts="127.0.0.1"))
            if case == "other type":
                subscribe(ctx, "Patient?", endpoint)
            elif case == "Observation":
                for code in range(10):  # ten distinct criteria: ten searches per write, one selects it
                    subscribe(ctx, f"Observation?code=http://loinc.org|c{code}", endpoint)
            writes(ctx, 20)  # warm-up
            rates[case] = writes(ctx, args.writes)
            if case == "Observation":
                start = time.perf_counter()
                events = 0
                while (done := fan_out(ctx.store, batch=100)):
                    events += done
                fan_rate = events / (time.perf_counter() - start)
                with ctx.store.engine.connect() as conn:
                    queued = conn.execute(select(func.count()).select_from(SubscriptionNotification)
                                          .where(SubscriptionNotification.kind == "event-notification")).scalar()
                listener = next(x for x in ctx.store.listeners if isinstance(x, SubscriptionListener))
                worker = DeliveryWorker(ctx, listener, poll_seconds=0.01, batch=20)
                before = count[0]
                start = time.perf_counter()
                worker.start()
                while count[0] - before < queued:
                    time.sleep(0.005)
                send_rate = queued / (time.perf_counter() - start)
                worker.stop()
            ctx.store.engine.dispose()
    httpd.shutdown()
    base = rates["none"]
    rows.append(f"| {backend} | writes/s, no subscription | {base:,.0f} | 1.00 |")
    rows.append(f"| {backend} | writes/s, active subscription on another type | {rates['other type']:,.0f} | "
                f"{rates['other type'] / base:.2f} |")
    rows.append(f"| {backend} | writes/s, 10 active subscriptions on Observation (matched, outbox row) | "
                f"{rates['Observation']:,.0f} | {rates['Observation'] / base:.2f} |")
    rows.append(f"| {backend} | fan-out: outbox rows/s numbered and queued ({queued} notifications) | "
                f"{fan_rate:,.0f} | |")
    rows.append(f"| {backend} | delivery: notifications/s to a local receiver (10 subscriptions) | "
                f"{send_rate:,.0f} | |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--writes", type=int, default=500)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    lines = ["# Subscriptions benchmark", "",
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"load average at start {load:.2f}; {args.writes} writes per case, one per transaction.", "",
             "| backend | measure | rate | ratio to no subscription |", "|---|---|---|---|"]
    for backend in args.backends.split(","):
        lines += bench_backend(backend, args)
    lines += ["", f"Load average at the end: {os.getloadavg()[0]:.2f}."]
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
