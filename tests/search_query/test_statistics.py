"""SQLite planner statistics (``server.storage.db.refresh_statistics``): gathered after
migrations, after ``$reindex``, and by ``PRAGMA optimize`` on long-lived connections, as
SQLite advises. Without them every search drove from all resources of its type."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import insert

from server.storage import db
from server.storage.models import IdxToken, Resource
from tests.api.test_reindex import kick_off, poll


def analyzed(engine) -> set[str]:
    """Indexes with a row in sqlite_stat1."""
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if not raw.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return set()
        return {idx for (idx,) in raw.execute("SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL")}


def some_tokens(engine, n: int = 200) -> None:
    with engine.begin() as conn:
        pids = [conn.execute(insert(Resource).values(resource_type="Observation", fhir_id=f"o{i}", version_id=1,
                                                     last_updated=datetime(2024, 1, 1), deleted=False)
                             .returning(Resource.pid)).scalar_one() for i in range(n)]
        conn.execute(insert(IdxToken), [dict(pid=p, resource_type="Observation", param="code",
                                             system="http://loinc.org", code=str(p % 7)) for p in pids])


@pytest.fixture
def engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'stats.db'}")
    yield engine
    engine.dispose()


def test_migrations_that_add_indexes_analyze_them(engine):
    command.upgrade(db.alembic_config(engine), "0010")  # before the probe indexes
    some_tokens(engine)
    assert analyzed(engine) == set()
    db.migrate(engine)
    assert {"ix_idx_token_pid_resource_type_param", "ix_idx_token_resource_type_param_code_system_pid"} \
        <= analyzed(engine)


def test_start_up_analyzes_a_database_filled_without_statistics(engine):
    command.upgrade(db.alembic_config(engine), "head")  # as a bulk load in another process leaves it
    some_tokens(engine)
    db.migrate(engine)  # nothing to migrate: what the server does at start-up
    assert "ix_idx_token_resource_type_param_code_system_pid" in analyzed(engine)


def test_pooled_connections_optimize_when_closed(engine):
    command.upgrade(db.alembic_config(engine), "head")  # no statistics refresh
    some_tokens(engine)
    with engine.connect() as conn:  # a query that uses an index of an unanalyzed table
        conn.exec_driver_sql("SELECT count(*) FROM idx_token WHERE resource_type = 'Observation' "
                             "AND param = 'code' AND code = '3'").scalar()
    assert analyzed(engine) == set()
    engine.dispose()  # closes the pooled connection: PRAGMA optimize
    assert "ix_idx_token_resource_type_param_code_system_pid" in analyzed(engine)


def test_pooled_connections_optimize_periodically(engine, monkeypatch):
    command.upgrade(db.alembic_config(engine), "head")
    some_tokens(engine)
    monkeypatch.setattr(db, "OPTIMIZE_EVERY", 0.0)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM idx_token WHERE resource_type = 'Observation' "
                             "AND param = 'code' AND code = '3'").scalar()
    # checked in: due at once with a period of 0
    assert "ix_idx_token_resource_type_param_code_system_pid" in analyzed(engine)


def test_reindex_refreshes_statistics(fhir, server):
    if server.backend != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
    for code in ("8480-6", "8462-4", "8867-4"):
        observation = {"resourceType": "Observation", "status": "final",
                       "code": {"coding": [{"system": "http://loinc.org", "code": code}]}}
        assert fhir.post("/Observation", json=observation).status_code == 201
    engine = server.ctx.store.engine
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM sqlite_stat1")
    assert poll(fhir, kick_off(fhir, "/Observation/$reindex"))["status"] == "completed"
    deadline = time.monotonic() + 30  # the statistics follow the job's last batch
    while "ix_idx_token_pid_resource_type_param" not in analyzed(engine):
        assert time.monotonic() < deadline, "no statistics after $reindex"
        time.sleep(0.05)
