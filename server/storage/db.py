"""Engines and migrations for SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

log = logging.getLogger("passerelle")

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

    # Statistics (see refresh_statistics): SQLite advises long-lived connections to run
    # PRAGMA optimize periodically and when they close. Pooled connections live for hours,
    # so: on check-in at most every OPTIMIZE_EVERY seconds, and on close.
    @event.listens_for(engine, "checkin")
    def _sqlite_checkin(dbapi_connection, record):
        if dbapi_connection is None:  # invalidated
            return
        last = record.info.setdefault("passerelle_optimized", time.monotonic())
        if time.monotonic() - last >= OPTIMIZE_EVERY:
            record.info["passerelle_optimized"] = time.monotonic()
            _optimize(dbapi_connection)

    @event.listens_for(engine, "close")
    def _sqlite_close(dbapi_connection, _record):
        _optimize(dbapi_connection)

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
    """Bring the schema to the latest revision (idempotent), then refresh SQLite's statistics:
    fully when a migration ran (new indexes have none) or there are none yet (a database
    filled by another process), else as ``PRAGMA optimize`` sees fit."""
    with engine.connect() as conn:
        before = MigrationContext.configure(conn).get_current_heads()
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as conn:
        after = MigrationContext.configure(conn).get_current_heads()
    refresh_statistics(engine, full=before != after or not _has_statistics(engine))


# -- SQLite planner statistics ------------------------------------------------------------------
#
# Without sqlite_stat1 SQLite's planner assumes every index equally selective: searches then
# drove from ``resource (resource_type)`` (every Observation) and grew linearly with the store
# (tests/bench/search-results.md). SQLite's advice (sqlite.org/lang_analyze.html, pragma
# optimize): run ANALYZE once the tables hold representative data, then ``PRAGMA optimize``
# periodically and when a long-lived connection closes; it re-analyzes only the tables whose
# size changed a lot since, under ``analysis_limit``. PostgreSQL's autovacuum does all of this.

OPTIMIZE_EVERY = 3600.0  # seconds between PRAGMA optimize runs on one pooled connection
ANALYSIS_LIMIT = 1000  # rows per index that PRAGMA optimize samples (SQLite advises 100-1000)


def refresh_statistics(engine: Engine, *, full: bool = True) -> None:
    """SQLite: ``ANALYZE`` the whole database (``full``: after migrations, bulk loads,
    ``$reindex``), or ``PRAGMA optimize`` (re-analyzes what changed). PostgreSQL: nothing."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if full:
            started = time.perf_counter()
            raw.execute("PRAGMA analysis_limit=0")
            raw.execute("ANALYZE")
            log.info("sqlite statistics refreshed", extra={"seconds": round(time.perf_counter() - started, 2)})
        else:
            _optimize(raw, check_all=True)


def _has_statistics(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        table = raw.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'").fetchone()
        return bool(table and raw.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'resource'").fetchone())


def _optimize(dbapi_connection, *, check_all: bool = False) -> None:
    """``PRAGMA optimize`` on one connection, never waiting for another writer: statistics
    can wait for the next turn, a request cannot. ``check_all`` (0x10000, SQLite 3.46+)
    checks every table, not only those this connection queried (the start-up case)."""
    try:
        dbapi_connection.execute("PRAGMA busy_timeout=0")
        try:
            dbapi_connection.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            dbapi_connection.execute("PRAGMA optimize=0x10002" if check_all else "PRAGMA optimize")
        finally:
            dbapi_connection.execute("PRAGMA busy_timeout=30000")
    except sqlite3.Error as exc:  # busy, a read-only file, a connection already broken
        log.info("sqlite optimize skipped", extra={"reason": str(exc)})
