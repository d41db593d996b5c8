"""A database of a benchmark's own: a SQLite file, or a PostgreSQL database created beside
the one PASSERELLE_BENCH_DATABASE_URL names (default: the local ``test``), dropped after."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_database(backend: str, name: str) -> Iterator[str]:
    """The URL of an empty database named after ``name`` (and this process), gone afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/{name}.db"
        return
    base = make_url(os.environ.get("PASSERELLE_BENCH_DATABASE_URL", DEFAULT_PG)).set(drivername="postgresql+psycopg")
    database = f"passerelle_bench_{name}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        conn.execute(text(f"CREATE DATABASE {database}"))
    try:
        yield base.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()
