"""Enforcement benchmark: what scopes, the compartment criterion and the audit trail cost.

    .venv/bin/python -m tests.bench.authz [--patients 2000] [--requests 200]

One in-process server with auth on (SQLite file under .bench/), loaded through the
real write path (``store.write()``: validation, index rows) with PATIENTS patients and
five Observations each. Then the same requests over HTTP with three tokens:
``system/*.rs`` (no row filter), ``patient/*.rs`` (the compartment criterion in the
SQL), and the audit trail's cost (auth on vs. a second server on the same file with
auth disabled). Prints and writes tests/bench/authz-results.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx

from server.app import create_app
from server.auth.tokens import issue_access_token
from server.config import Settings
from tests.conftest import start_server

RESULTS = Path(__file__).with_name("authz-results.md")
CODES = ["2345-7", "8867-4", "8480-6", "718-7", "2160-0"]


def load(ctx, patients: int) -> None:
    with ctx.store.write() as uow:
        for p in range(patients):
            uow.create({"resourceType": "Patient", "name": [{"family": f"Fam{p}"}]}, fhir_id=f"p{p}")
            for i, code in enumerate(CODES):
                uow.create({"resourceType": "Observation", "status": "final",
                            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                            "subject": {"reference": f"Patient/p{p}"}}, fhir_id=f"o{p}-{i}")


def timed(client: httpx.Client, paths: list[str]) -> tuple[float, float]:
    """Median and p95 latency in ms."""
    took = []
    for path in paths:
        start = time.perf_counter()
        r = client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    db = Path(".bench") / f"authz-{args.patients}.db"
    db.parent.mkdir(exist_ok=True)
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    secure = create_app(Settings(database_url=url, rate_limit_per_minute=0))
    load(secure.state.ctx, args.patients)
    open_app = create_app(Settings(database_url=url, auth="disabled", rate_limit_per_minute=0))
    servers = [start_server(secure), start_server(open_app)]
    ctx, base = secure.state.ctx, servers[0][2]

    def client(scopes: str | None, root: str = base, patient: str | None = None) -> httpx.Client:
        headers = {"Accept": "application/fhir+json"}
        if scopes:
            token, _ = issue_access_token(ctx, issuer="b", audience="b", client_id="bench", scopes=scopes.split(),
                                          subject="bench", patient=patient)
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=f"{root}/fhir", headers=headers, timeout=60)

    n = args.requests
    pids = [f"p{(i * 7919) % args.patients}" for i in range(n)]
    workloads = {
        "read Observation/{id}": [f"Observation/o{p[1:]}-1" for p in pids],
        "search Observation?code=…&_count=10": [f"Observation?code=http://loinc.org|{CODES[i % 5]}&_count=10"
                                               for i in range(n)],
        "search Observation?_include=Observation:subject": ["Observation?_include=Observation:subject&_count=10"] * n,
    }
    rows = []
    for name, paths in workloads.items():
        with client(None, servers[1][2]) as plain, client("system/*.rs") as system, \
                client("patient/*.rs", patient=pids[0]) as patient:
            timed(plain, paths[:20])  # warm-up
            row = [name, *timed(plain, paths), *timed(system, paths)]
            # The patient token reads its own patient's observation (others are 404s).
            own = [p.replace(p.split("/")[1], f"o{pids[0][1:]}-1") if p.startswith("Observation/o") else p
                   for p in paths]
            row += timed(patient, own)
            rows.append(row)
    for server, thread, _ in servers:
        server.should_exit = True
        thread.join(timeout=10)
    header = ("| request | auth off: median / p95 ms | system/*.rs (+audit) | patient/*.rs (+compartment, +audit) |\n"
              "|---|---|---|---|\n")
    lines = [f"| {r[0]} | {r[1]:.1f} / {r[2]:.1f} | {r[3]:.1f} / {r[4]:.1f} | {r[5]:.1f} / {r[6]:.1f} |" for r in rows]
    text = (f"# Enforcement benchmark\n\n{args.patients} patients, {args.patients * 5} Observations, SQLite, "
            f"{n} sequential requests each, one in-process uvicorn.\n\n" + header + "\n".join(lines) + "\n")
    print(text)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
