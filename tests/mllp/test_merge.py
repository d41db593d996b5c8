"""A claimed batch stored in shared transactions (server.inbox.merge): the same result as
one message after the other, and a faulty message still dead-lettered alone."""

from __future__ import annotations

from sqlalchemy import select

from mappers.hl7v2 import parse, to_bundle
from server.inbox import intake, merge
from server.inbox.models import InboxMessage
from server.inbox.worker import Workers
from server.storage.repository import utcnow

from .messages import AUTHORITY, adt, oru

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def bundle(raw: bytes) -> dict:
    return to_bundle(parse(raw))


def test_messages_of_different_patients_share_a_group_and_the_ward_is_created_once():
    bundles = [bundle(adt(f"G-{i}", f"GP-{i}")) for i in range(3)]
    assert merge.groups(bundles, 10_000) == [[0, 1, 2]]
    merged = merge.merge(bundles)
    locations = [e for e in merged["entry"] if e["request"]["url"] == "Location"]
    assert len(locations) == 1
    kept = locations[0]["fullUrl"]
    encounters = [e["resource"] for e in merged["entry"] if e["request"]["url"] == "Encounter"]
    assert [e["location"][0]["location"]["reference"] for e in encounters] == [kept] * 3
    provenances = [e["resource"] for e in merged["entry"] if e["request"]["url"] == "Provenance"]
    assert all({"reference": kept} in p["target"] for p in provenances)
    assert len(merged["entry"]) == sum(len(b["entry"]) for b in bundles) - 2


def test_a_group_ends_before_a_bundle_acting_on_the_same_target():
    first, update = bundle(adt("T-1", "TP-1")), bundle(adt("T-2", "TP-1", event="A08"))
    other = bundle(adt("T-3", "TP-2"))
    assert merge.groups([first, update, other], 10_000) == [[0], [1, 2]]
    # an ORU creating the patient conditionally, after an ADT updating it: not together either
    assert merge.groups([first, bundle(oru("T-4", "TP-1"))], 10_000) == [[0], [1]]
    # the same message twice (two files): the same fullUrls, never in one transaction
    assert merge.groups([first, bundle(adt("T-1", "TP-1"))], 10_000) == [[0], [1]]
    # the entry limit of a transaction
    size = len(first["entry"])
    assert merge.groups([first, other], 2 * size - 1) == [[0], [1]]


def test_operations_are_stored_alone():
    merge_op = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Parameters"}, "request": {"method": "POST", "url": "Patient/$merge"}}]}
    a, b = bundle(adt("O-1", "OP-1")), bundle(adt("O-2", "OP-2"))
    assert merge.groups([a, merge_op, b], 10_000) == [[0], [1], [2]]


def _inbox(server, raws: list[bytes]) -> list[int]:
    with server.ctx.store.engine.begin() as conn:
        verdicts = intake.store(conn, [intake.examine(r, channel="test", source=None, now=utcnow()) for r in raws])
    return [v.inbox_id for v in verdicts]


def _rows(server) -> list:
    with server.ctx.store.read() as uow:
        return uow.conn.execute(select(InboxMessage.__table__).order_by(InboxMessage.id)).all()


def test_a_batch_is_stored_in_one_transaction(server, fhir):
    _inbox(server, [adt(f"B-{i}", f"BP-{i}", family=f"Lot{i}") for i in range(5)])
    Workers(server.ctx, threads=0, lease_seconds=60, batch=16).run_once()
    assert [r.state for r in _rows(server)] == ["done"] * 5
    patients = [e["resource"] for e in fhir.get("/Patient", params={"_count": 50}).json()["entry"]]
    assert sorted(p["name"][0]["family"] for p in patients) == [f"Lot{i}" for i in range(5)]
    assert len({p["meta"]["lastUpdated"] for p in patients}) == 1  # one transaction: one lastUpdated
    assert len(fhir.get("/Location").json()["entry"]) == 1
    assert len(fhir.get("/Provenance", params={"_count": 50}).json()["entry"]) == 5


def test_a_faulty_message_in_a_batch_is_dead_and_the_others_are_stored(server, fhir):
    # Two Patients share an identifier: an ORU naming it cannot pick one (412), the others go on.
    twin = {"resourceType": "Patient", "identifier": [
        {"system": f"urn:passerelle:v2:authority:{AUTHORITY}", "value": "FP-TWIN"}]}
    for _ in range(2):
        assert fhir.post("/Patient", json=twin, headers=FHIR_JSON).status_code == 201
    ids = _inbox(server, [adt("F-1", "FP-1"), oru("F-2", "FP-TWIN"), adt("F-3", "FP-3")])
    Workers(server.ctx, threads=0, lease_seconds=60, batch=16).run_once()
    rows = {r.id: r for r in _rows(server)}
    assert [rows[i].state for i in ids] == ["done", "dead", "done"]
    assert "412" in rows[ids[1]].error and rows[ids[1]].attempts == 1
    assert len(fhir.get("/Provenance", params={"_count": 50}).json()["entry"]) == 2
    assert not fhir.get("/Observation").json().get("entry")  # nothing of the dead letter was kept
