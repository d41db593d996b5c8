"""Fixtures: a Passerelle server with its delivery worker (lifespan on) and a real HTTP
receiver standing for the subscriber's endpoint.

The receiver is a small threaded HTTP server on 127.0.0.1 that records every request
(method, path, headers, body) and answers with the statuses a test queues (200 when
none are queued). The server allows notifications to 127.0.0.1 only (plain http: it is
loopback) and retries fast, so that retry and give-up paths run in a second.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import uvicorn

from interfaces.app import create_app
from server.config import Settings
from tests.conftest import BACKENDS, FHIR_JSON, LiveServer, database_url, empty_store, start_server

FAST_RETRIES = dict(subscription_hosts="127.0.0.1, hooks.example.org", subscription_max_attempts=3,
                    subscription_retry_seconds=0.05, subscription_retry_cap_seconds=0.2,
                    subscription_timeout_seconds=5)


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 15) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} notification(s), received {len(self.requests)}: "
                             f"{[(r.method, r.path) for r in self.requests]}")

    def settle(self, seconds: float = 1.5) -> list[Received]:
        """What arrived once ``seconds`` passed with the worker free to send more."""
        time.sleep(seconds)
        with self.lock:
            return list(self.requests)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.statuses.clear()


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def _record(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with receiver.lock:
                receiver.requests.append(Received(self.command, self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = _record

        def log_message(self, *args):  # quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{httpd.server_address[1]}")
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return receiver, httpd


def serve(app) -> tuple[uvicorn.Server, threading.Thread, str]:
    """With the lifespan: the delivery worker starts as in production."""
    return start_server(app, lifespan="on")


@pytest.fixture
def receiver() -> Receiver:
    """A receiver of this test's own: what an earlier test's subscriptions still send
    (a heartbeat, a retry) goes to a port nobody listens on any more."""
    receiver, httpd = start_receiver()
    yield receiver
    httpd.shutdown()
    httpd.server_close()


def settings(url: str, **overrides) -> Settings:
    return Settings(database_url=url, **{**dict(auth="disabled", rate_limit_per_minute=0, mdm="off", nlp_notes=False),
                                         **FAST_RETRIES, **overrides})


@pytest.fixture(scope="session", params=BACKENDS)
def notifying_live(request, tmp_path_factory):
    with database_url(request.param, tmp_path_factory, suffix="_subs") as url:
        app = create_app(settings(url))
        server, thread, base = serve(app)
        yield LiveServer(base, app.state.ctx, request.param)
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()


@pytest.fixture
def fhir(notifying_live, receiver):
    empty_store(notifying_live.ctx)
    with notifying_live.client() as client:
        yield client


def subscription(endpoint: str, criteria: str, *, payload: str | None = None, content: str | None = None,
                 filters: tuple[str, ...] = (), headers: tuple[str, ...] = ()) -> dict:
    channel: dict = {"type": "rest-hook", "endpoint": endpoint}
    if payload:
        channel["payload"] = payload
    if content:
        channel["_payload"] = {"extension": [
            {"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content",
             "valueCode": content}]}
    if headers:
        channel["header"] = list(headers)
    resource = {"resourceType": "Subscription", "status": "requested", "reason": "test", "criteria": criteria,
                "channel": channel}
    if filters:
        resource["_criteria"] = {"extension": [
            {"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria",
             "valueString": f} for f in filters]}
    return resource


def wait_status(fhir, sub_id: str, status: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = fhir.get(f"/Subscription/{sub_id}").json()
        if current.get("status") == status:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"Subscription/{sub_id} is {current.get('status')}, not {status}: {current}")
        time.sleep(0.05)


def create_active(fhir, receiver: Receiver, resource: dict) -> dict:
    """Create the Subscription, wait for its handshake and activation, clear the receiver."""
    response = fhir.post("/Subscription", json=resource, headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "requested"
    receiver.wait_for(1)
    active = wait_status(fhir, created["id"], "active")
    receiver.reset()
    return active
