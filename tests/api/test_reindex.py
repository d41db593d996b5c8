"""$reindex: background rebuild of the search index, asynchronous, resumable."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.storage.jobs import ReindexJob
from server.storage.models import IdxToken
from tests.api.test_search_parameters import eye_parameter, ids, patient

JOB = ReindexJob.__table__


def kick_off(fhir, path: str = "/Patient/$reindex", **params) -> str:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": k, ("valueInteger" if isinstance(v, int) else "valueString"): v} for k, v in params.items()]}
    response = fhir.post(path, json=body)
    assert response.status_code == 202, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    return response.headers["Content-Location"]


def poll(fhir, location: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = fhir.get(location)
        if response.status_code != 202:
            assert response.status_code == 200, response.text
            return params(response.json())
        assert response.headers["X-Progress"].endswith("resources")
        assert time.monotonic() < deadline, response.text
        time.sleep(0.05)


def params(parameters: dict) -> dict:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in parameters["parameter"]}


def job_row(server, job_id: str):
    with server.ctx.store.read() as uow:
        return uow.conn.execute(select(JOB).where(JOB.c.id == job_id)).one()


def eye_rows(server) -> int:
    with server.ctx.store.read() as uow:
        return uow.conn.execute(select(func.count()).where(IdxToken.param == "eye-colour")).scalar()


@pytest.fixture
def seeded(fhir):
    """Five blue-eyed patients written before the SearchParameter existed."""
    old = {fhir.post("/Patient", json=patient("blue")).json()["id"] for _ in range(5)}
    fhir.post("/Observation", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}})
    assert fhir.post("/SearchParameter", json=eye_parameter()).status_code == 201
    assert ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json()) == set()
    return old


def test_reindex_finds_old_resources_and_reports_progress(fhir, server, seeded):
    location = kick_off(fhir, batchSize=2)
    assert "/$reindex-status?job=" in location
    done = poll(fhir, location)
    assert done["status"] == "completed"
    assert (done["total"], done["done"], done["progress"]) == (5, 5, "5/5")  # Patient only
    assert done["type"] == "Patient"
    assert ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json()) == seeded
    rows = eye_rows(server)

    again = poll(fhir, kick_off(fhir, "/$reindex", type="Patient,Observation"))  # idempotent
    assert (again["total"], again["done"]) == (6, 6)
    assert eye_rows(server) == rows
    assert ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json()) == seeded


def test_an_unfinished_job_is_not_started_twice(fhir, server, seeded):
    server.ctx.reindexer.after_batch = lambda job_id: False  # every job pauses after one batch
    try:
        first = kick_off(fhir, batchSize=1)
        job_id = first.rsplit("=", 1)[1]
        server.ctx.reindexer.wait(job_id, 30)
        assert kick_off(fhir, batchSize=1) == first
    finally:
        server.ctx.reindexer.after_batch = None
    server.ctx.reindexer.wait(job_id, 30)
    assert poll(fhir, first)["done"] == 5


def test_interrupted_job_resumes(fhir, server, seeded):
    reindexer = server.ctx.reindexer
    reindexer.after_batch = lambda job_id: False  # the worker stops between two batches
    try:
        location = kick_off(fhir, batchSize=2)
        job_id = location.rsplit("=", 1)[1]
        reindexer.wait(job_id, 30)
    finally:
        reindexer.after_batch = None
    paused = job_row(server, job_id)
    assert (paused.status, paused.owner, paused.done) == ("queued", None, 2)
    assert len(ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json())) == 2

    done = poll(fhir, location)  # asking for its status finds it unheld and carries on
    assert (done["status"], done["done"]) == ("completed", 5)
    assert ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json()) == seeded


def test_job_of_a_dead_worker_is_taken_over_when_its_lease_expires(fhir, server, seeded):
    reindexer = server.ctx.reindexer
    reindexer.after_batch = lambda job_id: False
    try:
        location = kick_off(fhir, batchSize=2)
        job_id = location.rsplit("=", 1)[1]
        reindexer.wait(job_id, 30)
    finally:
        reindexer.after_batch = None
    now = server.ctx.store.clock()
    with server.ctx.store.write() as uow:  # as a worker that died holding it would leave it
        uow.conn.execute(update(JOB).where(JOB.c.id == job_id).values(owner="gone", status="running", heartbeat=now))
    still = fhir.get(location)
    assert still.status_code == 202 and params(still.json())["done"] == 2
    time.sleep(0.2)
    assert job_row(server, job_id).owner == "gone"  # its lease still runs: nobody takes it

    with server.ctx.store.write() as uow:
        uow.conn.execute(update(JOB).where(JOB.c.id == job_id).values(heartbeat=now - timedelta(minutes=5)))
    done = poll(fhir, location)
    assert (done["status"], done["done"]) == ("completed", 5)
    assert job_row(server, job_id).owner is None


def test_writes_during_a_reindex_are_not_lost(fhir, server):
    pids = [fhir.post("/Patient", json=patient("blue")).json()["id"] for _ in range(30)]
    fhir.post("/SearchParameter", json=eye_parameter())
    changed = set(pids[::3])
    errors = []

    def recolour():
        with server.client() as client:
            for fhir_id in changed:
                response = client.put(f"/Patient/{fhir_id}", json={**patient("green"), "id": fhir_id})
                if response.status_code != 200:
                    errors.append(response.text)

    location = kick_off(fhir, batchSize=1)
    writer = threading.Thread(target=recolour)
    writer.start()
    writer.join()
    assert poll(fhir, location)["status"] == "completed"
    assert errors == []
    assert ids(fhir.get("/Patient", params={"eye-colour": "green", "_count": 100}).json()) == changed
    assert ids(fhir.get("/Patient", params={"eye-colour": "blue", "_count": 100}).json()) == set(pids) - changed


def test_failed_job_is_reported_as_500(fhir, server):
    location = kick_off(fhir, "/$reindex")
    assert poll(fhir, location)["total"] == 0  # an empty store: done at once
    with server.ctx.store.write() as uow:
        uow.conn.execute(update(JOB).values(status="failed", error="OperationalError: disk full"))
    failed = fhir.get(location)
    assert failed.status_code == 500
    assert "disk full" in failed.json()["issue"][0]["diagnostics"]


def test_reindex_errors(fhir):
    assert fhir.get("/$reindex").status_code == 405  # it changes data
    assert fhir.post("/$reindex", json={"resourceType": "Parameters", "parameter": [
        {"name": "type", "valueString": "Patinet"}]}).status_code == 400
    assert fhir.post("/$reindex", json={"resourceType": "Parameters", "parameter": [
        {"name": "batchSize", "valueInteger": 0}]}).status_code == 400
    assert fhir.get("/$reindex-status").status_code == 400
    assert fhir.get("/$reindex-status", params={"job": "nope"}).status_code == 404
    assert fhir.post("/Patient/x/$reindex", json={"resourceType": "Parameters"}).status_code == 404
