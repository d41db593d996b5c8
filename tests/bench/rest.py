"""The server under test, over real HTTP: a ``uvicorn server.app:create_app --factory``
subprocess (its own process, so the clients' GIL is not the server's) and httpx clients
in threads, one keep-alive connection each."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from .stats import percentile

ROOT = Path(__file__).resolve().parents[2]
FHIR_JSON = "application/fhir+json"
HEADERS = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base: str  # the FHIR base URL
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@contextmanager
def uvicorn_server(database_url: str, log_path: Path, *, tree: Path = ROOT,
                   start_seconds: float = 90) -> Iterator[Server]:
    """Start the app (the code in ``tree``) in a uvicorn subprocess on a free port; yield it
    once it answers."""
    port = _free_port()
    # The core's own cost: no tokens, no rate limit (tests/bench/authz.py measures those).
    env = {**os.environ, "PASSERELLE_DATABASE_URL": database_url, "PASSERELLE_LOG_LEVEL": "warning",
           "PASSERELLE_AUTH": "disabled", "PASSERELLE_RATE_LIMIT_PER_MINUTE": "0", "PASSERELLE_MLLP_PORT": "0",
           "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/metadata", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        try:
            yield Server(base, proc.pid)
        except BaseException:
            tail = log_path.read_text(errors="replace").splitlines()[-80:]
            print(f"--- last lines of the server log ({log_path}):", *tail, "---", sep="\n", file=sys.stderr)
            raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Throughput:
    count: int  # resources written
    seconds: float
    latencies: list[float]  # per request, seconds
    ids: list[str]  # Patient ids created
    server_cpu: float = float("nan")  # CPU seconds the server process used meanwhile

    @property
    def cpu_ms_per_item(self) -> float:
        return 1000 * self.server_cpu / self.count

    @property
    def per_s(self) -> float:
        return self.count / self.seconds

    def p(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000


def _run_clients(server: Server, payloads: list[bytes], clients: int, send) -> tuple[float, float, list[float], list]:
    """Send ``payloads`` (split round-robin) from ``clients`` threads; returns
    (seconds, server CPU seconds, latencies, results)."""
    base = server.base
    shares = [payloads[i::clients] for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    results: list[list] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def work(k: int) -> None:
        try:
            with httpx.Client(base_url=base, headers=HEADERS, timeout=120) as client:
                client.get("/metadata")  # open the connection before the clock starts
                barrier.wait()
                for body in shares[k]:
                    t0 = time.perf_counter()
                    out = send(client, body)
                    latencies[k].append(time.perf_counter() - t0)
                    results[k].append(out)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    cpu = server.cpu_seconds()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    cpu = server.cpu_seconds() - cpu
    if errors:
        raise errors[0]
    return seconds, cpu, [x for part in latencies for x in part], [x for part in results for x in part]


def _check(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url} -> {response.status_code}: "
                           f"{response.text[:1500]}")
    return response


def create_patients(server: Server, patients: list[dict], clients: int) -> Throughput:
    payloads = [orjson.dumps(p) for p in patients]

    def send(client: httpx.Client, body: bytes) -> str:
        location = _check(client.post("/Patient", content=body), 201).headers["location"]
        return location.split("/Patient/", 1)[1].split("/", 1)[0]

    seconds, cpu, latencies, ids = _run_clients(server, payloads, clients, send)
    return Throughput(len(payloads), seconds, latencies, ids, cpu)


def ingest_bundles(server: Server, bundles: list[dict], clients: int) -> Throughput:
    payloads = [orjson.dumps(b) for b in bundles]
    count = sum(len(b["entry"]) for b in bundles)

    def send(client: httpx.Client, body: bytes) -> list[str]:
        answer = _check(client.post("", content=body), 200).json()
        return [e["response"]["location"].split("/", 2)[1] for e in answer["entry"]
                if e["response"]["location"].startswith("Patient/")]

    seconds, cpu, latencies, ids = _run_clients(server, payloads, clients, send)
    return Throughput(count, seconds, latencies, [i for part in ids for i in part], cpu)


def read_patients(server: Server, ids: list[str], count: int, seed: int = 11) -> Throughput:
    """``count`` sequential GET Patient/{id} on random ids, one client, after a short warm-up."""
    rng = random.Random(seed)
    latencies = []
    with httpx.Client(base_url=server.base, headers={"Accept": FHIR_JSON}, timeout=60) as client:
        for fid in rng.choices(ids, k=min(50, count)):
            _check(client.get(f"/Patient/{fid}"), 200)
        cpu = server.cpu_seconds()
        start = time.perf_counter()
        for fid in rng.choices(ids, k=count):
            t0 = time.perf_counter()
            _check(client.get(f"/Patient/{fid}"), 200)
            latencies.append(time.perf_counter() - t0)
        seconds = time.perf_counter() - start
        cpu = server.cpu_seconds() - cpu
    return Throughput(count, seconds, latencies, [], cpu)


def http_floor(server: Server, count: int) -> Throughput:
    """``count`` sequential ``GET /`` (a redirect: routing and HTTP, no database), same client as reads:
    the share of a read's latency that is HTTP, uvicorn and FastAPI rather than our read path."""
    root = server.base.rsplit("/fhir", 1)[0]
    latencies = []
    with httpx.Client(base_url=root, timeout=60, follow_redirects=False) as client:
        for _ in range(min(50, count)):
            _check(client.get("/"), 307)
        cpu = server.cpu_seconds()
        start = time.perf_counter()
        for _ in range(count):
            t0 = time.perf_counter()
            _check(client.get("/"), 307)
            latencies.append(time.perf_counter() - t0)
        seconds = time.perf_counter() - start
        cpu = server.cpu_seconds() - cpu
    return Throughput(count, seconds, latencies, [], cpu)
