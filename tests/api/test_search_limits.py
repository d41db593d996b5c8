"""The search time limit (too-costly OperationOutcome) and the slow-search log."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace

import pytest
from sqlalchemy import text

from server.errors import TooCostly
from server.search.limits import Deadline


@pytest.fixture
def settings(server):
    """Change the running server's settings for one test."""
    original = server.ctx.settings

    def change(**fields):
        server.ctx.settings = replace(original, **fields)

    yield change
    server.ctx.settings = original


def slow_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT pg_sleep(5)"
    return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c"


def test_deadline_stops_a_statement_and_leaves_the_connection_clean(server):
    with server.ctx.store.read() as uow:
        dialect = uow.conn.dialect.name
        with pytest.raises(TooCostly) as caught:
            with Deadline(200).applied(uow.conn):
                uow.conn.execute(text(slow_sql(dialect)))
        assert caught.value.status == 400 and caught.value.code == "too-costly"
    with server.ctx.store.read() as uow:  # the pooled connection carries no limit afterwards
        if dialect == "postgresql":
            assert uow.conn.execute(text("SHOW statement_timeout")).scalar() == "0"
        else:
            uow.conn.execute(text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
                                  "SELECT count(*) FROM c"))


def test_search_past_the_limit_is_too_costly(fhir, settings):
    patients = [{"resource": {"resourceType": "Patient", "name": [{"family": f"Name{i:05d}", "given": ["Eve"]}]},
                 "request": {"method": "POST", "url": "Patient"}} for i in range(800)]
    assert fhir.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": patients}).status_code == 200
    settings(search_timeout_ms=1)
    heavy = {"name:contains": "e", "_sort": "-name", "_total": "accurate"}
    response = fhir.get("/Patient", params=heavy)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["code"] == "too-costly" and "limit of 1 ms" in issue["diagnostics"]
    settings(search_timeout_ms=0)  # no limit
    started = time.monotonic()
    assert fhir.get("/Patient", params=heavy).status_code == 200
    assert time.monotonic() - started > 0.005  # the search really needs more than 1 ms


def test_slow_search_log_has_names_never_values(fhir, settings, caplog):
    fhir.post("/Patient", json={"resourceType": "Patient", "name": [{"family": "Secretname"}]})
    settings(slow_query_ms=0)  # every search is "slow"
    with caplog.at_level(logging.WARNING, logger="passerelle.search"):
        assert fhir.get("/Patient", params={"name": "Secretname", "birthdate": "ge1950"}).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "passerelle.search"]
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["event"] == "slow_search" and line["types"] == ["Patient"] and line["outcome"] == "ok"
    assert line["params"] == ["name", "birthdate"] and line["ms"] >= 0
    assert "Secretname" not in lines[0] and "1950" not in lines[0]


def test_fast_searches_are_not_logged(fhir, settings, caplog):
    settings(slow_query_ms=60_000)
    with caplog.at_level(logging.WARNING, logger="passerelle.search"):
        fhir.get("/Patient", params={"name": "x"})
    assert not [r for r in caplog.records if r.name == "passerelle.search"]
