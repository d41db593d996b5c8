"""From the socket to the store: resources land (checked through the FHIR API), per-patient
order holds, failures become dead letters with their error, replay is idempotent."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from mappers.hl7v2 import parse
from server.inbox.models import InboxMessage

from .conftest import RunningChannel
from .messages import AUTHORITY, adt, oru


def wait_settled(server, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while True:
        with server.ctx.store.read() as uow:
            rows = uow.conn.execute(select(InboxMessage.__table__).order_by(InboxMessage.id)).all()
        if sum(r.state in ("done", "dead") for r in rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def patient(fhir, value: str) -> dict:
    bundle = fhir.get("/Patient", params={"identifier": f"urn:passerelle:v2:authority:{AUTHORITY}|{value}"}).json()
    [entry] = bundle["entry"]
    return entry["resource"]


def test_adt_and_oru_land_in_the_store(channel, server, fhir):
    channel.send(adt("PR-1", "PP-1", family="Lefebvre"), oru("PR-2", "PP-1", value="6.1"))
    rows = wait_settled(server, 2)
    assert [r.state for r in rows] == ["done", "done"], [r.error for r in rows]
    found = patient(fhir, "PP-1")
    assert found["name"][0]["family"] == "Lefebvre"
    observations = fhir.get("/Observation", params={"subject": f"Patient/{found['id']}"}).json()["entry"]
    assert [o["resource"]["valueQuantity"]["value"] for o in observations] == [6.1]
    assert fhir.get("/Encounter", params={"subject": f"Patient/{found['id']}"}).json()["entry"]


def test_updates_of_one_patient_are_applied_in_order(channel, server, fhir):
    families = [f"Ordre{i}" for i in range(12)]
    channel.send(adt("ORD-0", "PP-ORD", family=families[0]),
                 *(adt(f"ORD-{i}", "PP-ORD", event="A08", family=f) for i, f in enumerate(families[1:], 1)))
    rows = wait_settled(server, len(families))
    assert {r.state for r in rows} == {"done"}
    current = patient(fhir, "PP-ORD")
    history = fhir.get(f"/Patient/{current['id']}/_history", params={"_count": 50}).json()["entry"]
    written = [e["resource"]["name"][0]["family"] for e in reversed(history)]
    assert written == families and current["name"][0]["family"] == families[-1]


def test_unmappable_message_is_a_dead_letter_with_its_error_and_replay_is_idempotent(channel, server, fhir):
    [reply] = channel.send(adt("DEAD-1", "PP-D", event="A99", accept="AL", application="AL"))
    commit, application = reply.acks
    assert parse(commit).segment("MSA").get(1) == "CA"
    msa, err = parse(application).segment("MSA"), parse(application).segment("ERR")
    assert (msa.get(1), msa.get(2)) == ("AR", "DEAD-1")
    assert (err.get(2, 1), err.get(2, 3), err.get(2, 5), err.get(3, 1)) == ("MSH", "9", "2", "201")
    [row] = wait_settled(server, 1)
    assert row.state == "dead" and "MSH[1]-9.2" in row.error and row.attempts == 1

    listed = fhir.get("/$inbox", params={"state": "dead"}).json()
    counts = {p["name"]: p["valueInteger"] for p in listed["parameter"][0]["part"]}
    assert counts["dead"] == 1 and counts["done"] == 0
    [message] = [p for p in listed["parameter"] if p["name"] == "message"]
    fields = {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in message["part"]}
    assert fields["controlId"] == "DEAD-1" and fields["messageType"] == "ADT^A99" and "201" in fields["error"]
    assert "PP-D" not in str(listed)  # no message content over FHIR

    replay = {"resourceType": "Parameters", "parameter": [{"name": "id", "valueInteger": row.id}]}
    answer = fhir.post("/$inbox-replay", json=replay, headers={"Content-Type": "application/fhir+json"}).json()
    assert answer["parameter"] == [{"name": "queued", "valueInteger": row.id}]
    deadline = time.monotonic() + 30
    while (again := wait_settled(server, 1)[0]).attempts < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert again.state == "dead" and again.attempts == 2


def test_inbox_operation_checks_its_parameters(fhir):
    bad = fhir.get("/$inbox", params={"state": "lost"})
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["state"]
    assert fhir.get("/$inbox", params={"count": "0"}).status_code == 400
    assert fhir.get("/$inbox-replay").status_code == 405


@pytest.fixture
def after_mapping(server, channel_settings):
    running = RunningChannel(server.ctx, replace(channel_settings, mllp_original_ack="application"))
    yield running
    running.stop()


def test_original_mode_can_acknowledge_after_mapping(after_mapping, server, fhir):
    ok, failed = after_mapping.send(adt("AM-1", "PP-AM", family="Apres"), adt("AM-2", "PP-AM2", event="A99"))
    assert [parse(a).segment("MSA").get(1) for a in ok.acks] == ["AA"]
    assert patient(fhir, "PP-AM")["name"][0]["family"] == "Apres"  # stored before the AA was sent
    [nak] = failed.acks
    assert parse(nak).segment("MSA").get(1) == "AR" and parse(nak).segment("ERR").get(3, 1) == "201"
    rows = wait_settled(server, 2)
    assert [(r.state, r.commit_ack, r.app_ack) for r in rows] == [("done", None, ok.acks[0]),
                                                                  ("dead", None, nak)]
