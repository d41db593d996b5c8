"""The identity tests run on a server of their own with matching on (PASSERELLE_MDM=on),
whatever the shared test server does; same backends, same empty store per test. Its
PostgreSQL database is its own too (``…_mdm``): in a whole-suite run both servers live."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.app import create_app
from server.config import Settings

from ..conftest import BACKENDS, PG_URL, LiveServer, start_server


def _pg_database(name: str, *, create: bool) -> str:
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        if create:
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(PG_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, tmp_path_factory):
    name = f"passerelle_test_{os.getpid()}_mdm"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('mdm') / 'passerelle.db'}"
    else:
        url = _pg_database(name, create=True)
    app = create_app(Settings(database_url=url, mdm="on", auth="disabled", rate_limit_per_minute=0))
    server, thread, base = start_server(app)
    yield LiveServer(base, app.state.ctx, request.param)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.ctx.store.engine.dispose()
    if request.param != "sqlite":
        _pg_database(name, create=False)
