"""Durability: an event recorded with its write survives a restart; two processes sharing
one database deliver each notification once. Real SQLite file / real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from interfaces.app import create_app
from interfaces.subscriptions import DeliveryWorker, start_for
from server.app import build_context
from server.subscriptions import SubscriptionListener
from server.subscriptions.models import SubscriptionEvent
from tests.conftest import BACKENDS, FHIR_JSON, LiveServer, database_url, start_server
from tests.subscriptions.conftest import serve, settings, subscription, wait_status

HEADERS = {"Content-Type": FHIR_JSON}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restart_does_not_lose_an_undelivered_event(backend, tmp_path_factory, receiver):
    with database_url(backend, tmp_path_factory, suffix="_subs_restart") as url:
        # First run: lifespan off, the worker started by hand so it can be stopped first.
        app = create_app(settings(url))
        server, thread, base = start_server(app)
        first = LiveServer(base, app.state.ctx, backend)
        worker = start_for(first.ctx, poll_seconds=0.1)
        with first.client() as fhir:
            sub = fhir.post("/Subscription", json=subscription(f"{receiver.url}/hook", "Patient?family=Leroy",
                                                               payload="application/fhir+json"),
                            headers=HEADERS).json()
            wait_status(fhir, sub["id"], "active")
            worker.stop()
            receiver.reset()
            patient = fhir.post("/Patient", json={"resourceType": "Patient", "name": [{"family": "Leroy"}]},
                                headers=HEADERS).json()
        assert receiver.settle(1.0) == []  # recorded, not sent: nobody is delivering
        with first.ctx.store.engine.connect() as conn:
            pending = conn.execute(select(SubscriptionEvent.fhir_id).where(SubscriptionEvent.state == "pending"))
            assert list(pending.scalars()) == [patient["id"]]  # in the outbox, committed with the Patient
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.store.engine.dispose()

        # Second run on the same database, started as in production: the event goes out.
        app = create_app(settings(url))
        server, thread, _ = serve(app)
        try:
            got = receiver.wait_for(1)
            assert [(r.method, r.path) for r in got] == [("PUT", f"/hook/Patient/{patient['id']}")]
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.state.ctx.store.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_processes_deliver_each_notification_once(backend, tmp_path_factory, receiver):
    with database_url(backend, tmp_path_factory, suffix="_subs_twice") as url:
        contexts = [build_context(settings(url)) for _ in range(2)]  # two API processes' state
        app = create_app(context=contexts[0])
        server, thread, base = start_server(app)
        workers = [DeliveryWorker(ctx, next(x for x in ctx.store.listeners if isinstance(x, SubscriptionListener)),
                                  poll_seconds=0.05, batch=3) for ctx in contexts]
        for worker in workers:
            worker.start()
        try:
            with LiveServer(base, contexts[0], backend).client() as fhir:
                sub = fhir.post("/Subscription", json=subscription(f"{receiver.url}/hook", "Patient?",
                                                                   payload="application/fhir+json"),
                                headers=HEADERS).json()
                wait_status(fhir, sub["id"], "active")
                receiver.reset()
                ids = {fhir.post("/Patient", json={"resourceType": "Patient"}, headers=HEADERS).json()["id"]
                       for _ in range(30)}
            receiver.wait_for(30, timeout=30)
            paths = [r.path for r in receiver.settle(1.0)]
            assert sorted(paths) == sorted(f"/hook/Patient/{i}" for i in ids)  # each once, none twice
        finally:
            for worker in workers:
                worker.stop()
            server.should_exit = True
            thread.join(timeout=10)
            for ctx in contexts:
                ctx.store.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_version_is_matched_as_written_even_if_sent_later(backend, tmp_path_factory, receiver):
    """Matching happens in the writing transaction: a Task completed then reopened before
    any worker runs is notified once, for the completed version, with that content."""
    with database_url(backend, tmp_path_factory, suffix="_subs_versions") as url:
        app = create_app(settings(url))
        server, thread, base = start_server(app)  # lifespan off: the worker runs when the test says
        ctx = app.state.ctx
        worker = start_for(ctx, poll_seconds=0.1)
        try:
            with LiveServer(base, ctx, backend).client() as fhir:
                resource = subscription(f"{receiver.url}/tasks", "https://passerelle.dev/fhir/SubscriptionTopic/"
                                        "task-status-change", payload="application/fhir+json",
                                        content="full-resource", filters=("Task?status=completed",))
                sub = fhir.post("/Subscription", json=resource, headers=HEADERS).json()
                wait_status(fhir, sub["id"], "active")
                worker.stop()
                receiver.reset()
                task = fhir.post("/Task", json={"resourceType": "Task", "status": "requested", "intent": "order"},
                                 headers=HEADERS).json()
                for status in ("completed", "in-progress"):
                    task["status"] = status
                    task = fhir.put(f"/Task/{task['id']}", json=task, headers=HEADERS).json()
            worker = start_for(ctx, poll_seconds=0.1)
            got = receiver.wait_for(1)
            assert len(receiver.settle(1.0)) == 1
            focus = got[0].json()["entry"][1]["resource"]
            assert (focus["status"], focus["meta"]["versionId"]) == ("completed", "2")
        finally:
            worker.stop()
            server.should_exit = True
            thread.join(timeout=10)
            ctx.store.engine.dispose()
