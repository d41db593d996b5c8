"""Engines and migrations for SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"

# Execution option marking a unit of work that will write (see _sqlite_begin).
WRITE = {"passerelle_write": True}


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3 here
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # Parallel gathers cost more to start than FHIR searches (small pages) take: measured
    # 280 ms vs 5-15 ms for a one-code Observation page at 1M rows on this 2-core machine.
    # psycopg prepares a statement after 5 runs, and PostgreSQL may then keep a generic
    # plan that ignores the values: patient+code+date at 1M went from 11 ms to 2 s.
    # Search selectivity depends on the values, so always plan with them.
    # Options the URL gives (``?options=-csearch_path=...``: the benchmarks' own schema) are
    # kept: connect_args would otherwise replace them.
    options = " ".join(filter(None, ("-c max_parallel_workers_per_gather=0 -c plan_cache_mode=force_custom_plan",
                                     make_url(url).query.get("options"))))
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         connect_args={"options": options})


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A writer takes the write lock up front: a deferred transaction that reads and
        # then writes can fail with SQLITE_BUSY when another writer got in between.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("passerelle_write") else "BEGIN")

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    command.upgrade(alembic_config(engine), "head")
