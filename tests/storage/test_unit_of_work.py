"""The unit of work's buffered writes: what one transaction sees of its own writes, which
index rows end up stored, and how few statements a transaction Bundle's look-ups cost."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from server.errors import Conflict, TooCostly
from server.search.limits import lookup_limit
from server.search.service import find_ids
from server.storage.models import IdxString
from tests.api.test_search_limits import slow_sql


def family_rows(uow, fhir_id: str) -> list[str]:
    pid = uow.pid_of("Patient", fhir_id)
    return sorted(uow.conn.execute(select(IdxString.value).where(
        IdxString.pid == pid, IdxString.param == "family")).scalars())


def test_a_resource_created_then_updated_in_one_unit_of_work(server):
    with server.ctx.store.write() as uow:
        uow.create({"resourceType": "Patient", "name": [{"family": "Avant"}]}, fhir_id="uow-1")
        stored, created = uow.update({"resourceType": "Patient", "id": "uow-1", "name": [{"family": "Apres"}]},
                                     "uow-1")
        assert (stored.version_id, created) == (2, False)
        assert uow.read("Patient", "uow-1").resource()["name"][0]["family"] == "Apres"
        assert family_rows(uow, "uow-1") == ["apres"]  # the first version's rows were never written
        assert find_ids(uow, "Patient", [("family", "avant")]) == []


def test_a_resource_updated_twice_in_one_unit_of_work_keeps_one_set_of_index_rows(server):
    with server.ctx.store.write() as uow:
        uow.create({"resourceType": "Patient", "name": [{"family": "Un"}]}, fhir_id="uow-2")
    with server.ctx.store.write() as uow:
        for family in ("Deux", "Trois"):
            uow.update({"resourceType": "Patient", "id": "uow-2", "name": [{"family": family}]}, "uow-2")
    with server.ctx.store.read() as uow:
        assert uow.read("Patient", "uow-2").version_id == 3
        assert family_rows(uow, "uow-2") == ["trois"]


def test_creating_one_id_twice_in_one_unit_of_work_is_a_conflict(server):
    with pytest.raises(Conflict):
        with server.ctx.store.write() as uow:
            uow.create({"resourceType": "Patient"}, fhir_id="uow-3")
            uow.create({"resourceType": "Patient"}, fhir_id="uow-3")
    with server.ctx.store.read() as uow:
        assert uow.pid_of("Patient", "uow-3") is None


@contextmanager
def statements(server):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = server.ctx.store.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_transactions_conditional_entries_are_looked_up_in_one_statement(server, fhir):
    def entry(i: int) -> dict:
        return {"resource": {"resourceType": "Patient", "identifier": [{"system": "urn:uow", "value": f"v{i}"}]},
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier=urn:uow|v{i}"}}

    def searches(seen: list[str]) -> int:
        return sum("idx_token" in s and not s.startswith("INSERT") for s in seen)

    def locks(seen: list[str]) -> int:
        return sum("pg_advisory_xact_lock" in s for s in seen)

    postgresql = server.backend == "postgresql"
    first = {"resourceType": "Bundle", "type": "transaction", "entry": [entry(0), entry(1)]}
    assert fhir.post("", json=first).status_code == 200
    again = {"resourceType": "Bundle", "type": "transaction", "entry": [entry(0), entry(1), entry(2)]}
    with statements(server) as seen:
        response = fhir.post("", json=again)
    assert [e["response"]["status"] for e in response.json()["entry"]] == ["200", "200", "201"]
    # PostgreSQL locks what matched nothing (v2), then searches it again under the lock.
    assert (searches(seen), locks(seen)) == ((2, 1) if postgresql else (1, 0))
    with statements(server) as seen:  # everything matches: nothing to lock
        response = fhir.post("", json=again)
    assert [e["response"]["status"] for e in response.json()["entry"]] == ["200", "200", "200"]
    assert (searches(seen), locks(seen)) == (1, 0)


def test_a_look_up_past_the_limit_is_too_costly(server):
    with server.ctx.store.write() as uow:
        with pytest.raises(TooCostly):
            with lookup_limit(uow, 200):
                uow.conn.execute(text(slow_sql(uow.conn.dialect.name)))


def test_the_look_up_limit_is_lifted_before_the_unit_of_work_writes(server):
    with server.ctx.store.write() as uow:
        if uow.conn.dialect.name != "postgresql":
            pytest.skip("PostgreSQL: SQLite bounds a look-up with a progress handler, not a setting")
        find_ids(uow, "Patient", [("family", "nobody")])
        assert uow.conn.execute(text("SHOW statement_timeout")).scalar() != "0"
        uow.create({"resourceType": "Patient"})
        uow.flush()
        assert uow.conn.execute(text("SHOW statement_timeout")).scalar() == "0"


def test_reading_one_resource_sends_only_its_own_buffered_writes(server):
    with server.ctx.store.write() as uow:
        uow.create({"resourceType": "Patient", "name": [{"family": "Lue"}]}, fhir_id="uow-read")
    with server.ctx.store.write() as uow:
        uow.create({"resourceType": "Patient", "name": [{"family": "Autre"}]}, fhir_id="uow-other")
        with statements(server) as seen:
            assert uow.read("Patient", "uow-read").version_id == 1
        assert not any(s.startswith("INSERT") for s in seen)  # uow-other stays buffered
        with statements(server) as seen:
            assert uow.read("Patient", "uow-other").resource()["name"][0]["family"] == "Autre"
        assert any(s.startswith("INSERT") for s in seen)
