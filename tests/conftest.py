"""Shared fixtures: a real Passerelle server on a real socket, on SQLite and PostgreSQL.

Each backend gets one server for the session (uvicorn in a thread, an ephemeral
port); every test starts from an empty store. PostgreSQL runs when
PASSERELLE_TEST_DATABASE_URL is set (``.ci/run`` sets it).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from interfaces.app import create_app
from server.config import Settings
from server.context import AppContext
from server.storage.db import WRITE
from server.storage.models import Base

PG_URL = os.environ.get("PASSERELLE_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
FHIR_JSON = "application/fhir+json"


@dataclass
class LiveServer:
    url: str
    ctx: AppContext
    backend: str

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/fhir", headers={"Accept": FHIR_JSON}, timeout=60, **kwargs)


@contextmanager
def database_url(backend: str, tmp_path_factory, suffix: str = "") -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL database of this run's own
    (created beside the one PASSERELLE_TEST_DATABASE_URL names, dropped at the end),
    so that parallel runs on one server do not trip over each other."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'passerelle.db'}"
        return
    name = f"passerelle_test_{os.getpid()}{suffix}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(PG_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def start_server(app, *, lifespan: str = "off") -> tuple[uvicorn.Server, threading.Thread, str]:
    """uvicorn in a thread; ``lifespan="on"`` starts the app's background work as in production."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, tmp_path_factory):
    with database_url(request.param, tmp_path_factory) as url:
        # The shared server tests FHIR behaviour: no enforcement (tests/security starts servers
        # with auth on), no identity matching (tests/mdm starts servers with it on: it adds a
        # golden record beside each Patient and links the two). CDS Hooks are mounted.
        app = create_app(Settings(database_url=url, max_body_bytes=40 * 1024 * 1024, auth="disabled",
                                  rate_limit_per_minute=0, mdm="off"))
        server, thread, base = start_server(app)
        yield LiveServer(base, app.state.ctx, request.param)
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()


def empty_store(ctx: AppContext) -> None:
    """Empty every table, waiting for any write still in flight from the previous test."""
    if ctx.reindexer is not None:
        ctx.reindexer.wait_all(timeout=60)  # a $reindex a previous test started holds row locks
    tables = [t.name for t in Base.metadata.sorted_tables]
    with ctx.store.engine.execution_options(**WRITE).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            ctx.store._pids.clear()  # pids drawn before the restart would be drawn again
        else:
            for table in reversed(tables):
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def server(live_server) -> LiveServer:
    empty_store(live_server.ctx)
    return live_server


@pytest.fixture
def fhir(server):
    """An HTTP client on the FHIR base of a running server with an empty store."""
    with server.client() as client:
        yield client


def race(server, n: int, request) -> list:
    """Run ``request(client)`` from n threads released at the same moment."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        with server.client() as client:
            barrier.wait()
            results[i] = request(client)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
