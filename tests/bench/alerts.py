"""Alert benchmark: knowledge load, the rules in memory, the cost of the store listener,
and CDS Hooks order-sign latency.

    .venv/bin/python -m tests.bench.alerts                       # SQLite
    .venv/bin/python -m tests.bench.alerts --backends sqlite,postgresql --patients 100

1. ``knowledge.load`` from the bundled directory (cold: the build, not the cache);
2. ``detect`` on synthetic patients (8 medications, 3 allergies): patients/s;
3. writes through the store, one resource per transaction (as a REST create), with the
   alert listener and without it: resources/s, and the DetectedIssues written;
4. ``order-sign`` over HTTP (uvicorn on a real socket, store fallback, no prefetch):
   latency p50 / p95.

PostgreSQL: ``PASSERELLE_BENCH_DATABASE_URL`` (default the test server); each measure
creates a database of its own (``passerelle_bench_alerts_*``) and drops it at the end.
Results go to tests/bench/alerts-results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from server.alerts import AlertListener
from server.alerts.detect import detect
from server.alerts.facts import allergy, medication
from server.config import Settings
from server.search.service import find_ids
from terminology import knowledge
from terminology.knowledge.build import build
from tests.bench.databases import scratch_database

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "alerts-results.md"
DRUGS = ["amoxicillin", "warfarin", "aspirin", "simvastatin", "clarithromycin", "metformin", "omeprazole",
         "ibuprofen", "fluoxetine", "tramadol", "ceftriaxone", "amlodipine", "furosemide", "paracetamol",
         "ciprofloxacin", "levothyroxine", "digoxin", "amiodarone", "lithium", "methotrexate"]
ALLERGENS = ["penicillin", "sulfonamides", "NSAIDs", "iodinated contrast media", "latex", "peanut", "codeine"]


def synthetic_patient(rng: random.Random, patient_id: str) -> list[dict]:
    out = []
    for n, name in enumerate(rng.sample(ALLERGENS, 3)):
        out.append({"resourceType": "AllergyIntolerance", "id": f"a{n}",
                    "patient": {"reference": f"Patient/{patient_id}"}, "code": {"text": name}})
    for n, name in enumerate(rng.sample(DRUGS, 8)):
        out.append({"resourceType": "MedicationRequest", "id": f"m{n}", "status": "active", "intent": "order",
                    "subject": {"reference": f"Patient/{patient_id}"},
                    "medicationCodeableConcept": {"text": f"{name} 100 mg tablet"}})
    return out


def bench_load() -> float:
    start = time.perf_counter()
    build(knowledge.DATA)
    return time.perf_counter() - start


def bench_detect(kb, patients: int) -> tuple[float, float]:
    rng = random.Random(7)
    data = [synthetic_patient(rng, str(i)) for i in range(patients)]
    findings = 0
    start = time.perf_counter()
    for resources in data:
        meds = [m for r in resources if (m := medication(kb, r, lambda ref: None))]
        allergies = [a for r in resources if r["resourceType"] == "AllergyIntolerance" and (a := allergy(kb, r))]
        findings += len(detect(kb, meds, allergies))
    elapsed = time.perf_counter() - start
    return patients / elapsed, findings / patients


def bench_writes(url: str, patients: int, with_alerts: bool) -> tuple[float, int]:
    from server.app import build_context

    ctx = build_context(Settings(database_url=url, auth="disabled"))
    if not with_alerts:
        ctx.store.listeners = [x for x in ctx.store.listeners if not isinstance(x, AlertListener)]
    rng = random.Random(11)
    payloads = []
    for _ in range(patients):
        pid = str(uuid.uuid4())
        payloads.append(({"resourceType": "Patient", "id": pid}, synthetic_patient(rng, pid)))
    written = 0
    start = time.perf_counter()
    for patient, resources in payloads:
        with ctx.store.write() as uow:
            uow.create({"resourceType": "Patient"}, fhir_id=patient["id"])
        for r in resources:
            with ctx.store.write() as uow:
                uow.create({k: v for k, v in r.items() if k != "id"})
            written += 1
    elapsed = time.perf_counter() - start
    with ctx.store.read() as uow:
        issues = len(find_ids(uow, "DetectedIssue", [], strict=True, limit=10 ** 6))
    ctx.store.engine.dispose()
    return written / elapsed, issues


def bench_cds(url: str, calls: int) -> tuple[float, float]:
    from interfaces.app import create_app
    from tests.conftest import start_server

    app = create_app(Settings(database_url=url, auth="disabled", rate_limit_per_minute=0))
    server, thread, base = start_server(app)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            pid = client.post("/fhir/Patient", json={"resourceType": "Patient"}).json()["id"]
            for r in synthetic_patient(random.Random(3), pid):
                client.post(f"/fhir/{r['resourceType']}", json={k: v for k, v in r.items() if k != "id"})
            order = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
                     "subject": {"reference": f"Patient/{pid}"},
                     "medicationCodeableConcept": {"text": "clarithromycin 500 mg"}}
            drafts = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}
            body = {"hook": "order-sign", "hookInstance": "b",
                    "context": {"patientId": pid, "userId": "Practitioner/1", "draftOrders": drafts}}
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                r = client.post("/cds-services/passerelle-order-sign-check", json=body)
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, r.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def bench_backend(backend: str, args) -> str:
    with scratch_database(backend, "alerts_off") as url:
        off, _ = bench_writes(url, args.patients, False)
    with scratch_database(backend, "alerts_on") as url:
        on, issues = bench_writes(url, args.patients, True)
    with scratch_database(backend, "alerts_cds") as url:
        p50, p95 = bench_cds(url, args.calls)
    return f"| {backend} | {off:,.0f} | {on:,.0f} ({on / off:.0%}) | {issues} | {p50:.1f} / {p95:.1f} |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--patients", type=int, default=60, help="patients written through the store")
    parser.add_argument("--calls", type=int, default=100, help="order-sign calls")
    args = parser.parse_args(argv)
    lines = [f"# Alert benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f})", ""]
    load_s = bench_load()
    kb = knowledge.load()
    rate, per_patient = bench_detect(kb, 2000)
    lines += [f"- knowledge load (cold build, bundled data): {load_s:.2f} s; "
              f"{len(kb.substances)} substances, {len(kb.allergen_classes)} allergen classes",
              f"- rules in memory (8 medications, 3 allergies per patient): {rate:,.0f} patients/s, "
              f"{per_patient:.1f} findings per patient", "",
              "| backend | store writes/s, alerts off | alerts on | DetectedIssues written | "
              "order-sign p50 / p95 (ms) |", "|---|---|---|---|---|"]
    for backend in args.backends.split(","):
        lines.append(bench_backend(backend, args))
    lines += ["", f"{args.patients} patients x 11 resources, one resource per transaction; "
              f"{args.calls} order-sign calls, one client, store fallback (no prefetch)."]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
