"""The leak suite: a ``patient/*.rs`` token of patient A reaches nothing of patient B,
whatever the request shape (read, search, paging, totals, includes, chains, _has,
compartments, history, batch, operations)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from security_helpers import ids

from tests.conftest import FHIR_JSON

A_SCOPES = "patient/*.rs"
B_THINGS = {"Patient/B", "Observation/b-lab", "Observation/b-vital", "Encounter/b-enc", "Provenance/b-prov"}


@pytest.fixture
def alice(secure, two_patients):
    with secure.client(A_SCOPES, patient="A") as client:
        yield client


def nothing_of_b(bundle: dict) -> None:
    found = ids(bundle)
    assert not found & B_THINGS, found & B_THINGS
    assert "Bravo" not in str(bundle.get("entry", []))


@pytest.mark.parametrize("path", ["Patient/B", "Observation/b-lab", "Encounter/b-enc", "Provenance/b-prov",
                                  "Observation/b-vital/_history/1", "Observation/b-vital/_history",
                                  "Patient/B/_history"])
def test_reads_of_b_are_not_found(alice, path):
    r = alice.get(path)
    assert r.status_code == 404, r.text
    assert r.json()["resourceType"] == "OperationOutcome"


def test_reads_of_a_work(alice):
    assert alice.get("Patient/A").status_code == 200
    assert alice.get("Observation/a-lab").json()["id"] == "a-lab"
    assert alice.get("Observation/a-lab/_history/1").status_code == 200
    assert alice.get("Observation/a-lab/_history").json()["total"] == 1
    # A practitioner is not patient data: outside the compartment, patient/*.rs reaches it.
    assert alice.get("Practitioner/doc").status_code == 200


@pytest.mark.parametrize("query", [
    "Observation", "Observation?subject=Patient/B", "Observation?code=http://loinc.org|2345-7",
    "Observation?_id=b-lab,a-lab", "Patient", "Patient?family=Bravo", "Encounter", "Provenance",
    "Observation?subject:Patient.family=Bravo", "Observation?focus:Patient.family=Bravo",
    "Patient?_has:Observation:subject:code=2345-7", "Patient?_has:Provenance:patient:recorded=2024",
    "Observation?_include=Observation:subject", "Observation?_include=*&_include:iterate=*",
    "Observation?_revinclude=Provenance:target", "Practitioner?_revinclude=Observation:performer",
    "Practitioner?_revinclude:iterate=Observation:performer&_revinclude:iterate=Provenance:target",
    "Patient?_revinclude=*&_include:iterate=*", "?_type=Observation,Patient,Encounter",
    "?_id=B,b-lab", "Patient/B/Observation", "Patient/B/*", "Patient/A/*?_include=Observation:focus",
])
def test_searches_hold_nothing_of_b(alice, query):
    r = alice.get(query)
    assert r.status_code == 200, r.text
    nothing_of_b(r.json())


def test_search_shows_a_with_right_totals_and_paging(alice):
    r = alice.get("Observation", params={"_total": "accurate"})
    assert ids(r.json(), "match") == {"Observation/a-lab", "Observation/a-vital", "Observation/a-focus"}
    assert r.json()["total"] == 3
    assert alice.get("Observation", params={"_summary": "count"}).json()["total"] == 3
    seen, url = [], "Observation?_count=1"
    while url:
        page = alice.get(url).json()
        nothing_of_b(page)
        seen += sorted(ids(page, "match"))
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert sorted(seen) == ["Observation/a-focus", "Observation/a-lab", "Observation/a-vital"]
    # _include of the subject brings A (not B, whom a-focus names as focus).
    r = alice.get("Observation", params={"_include": "Observation:focus", "_id": "a-focus"})
    assert ids(r.json(), "include") == set()
    r = alice.get("Observation", params={"_include": "Observation:subject"})
    assert ids(r.json(), "include") == {"Patient/A"}


def test_chain_does_not_test_b(alice):
    # a-focus names B as its focus: a chain on focus must not reveal B's family name.
    assert ids(alice.get("Observation", params={"focus:Patient.family": "Bravo"}).json()) == set()
    assert ids(alice.get("Observation", params={"subject:Patient.family": "Alpha"}).json()) == {
        "Observation/a-lab", "Observation/a-vital", "Observation/a-focus"}


def versions(bundle: dict) -> set[str]:
    """``Type/id/version`` of a history Bundle's entries (deletions included)."""
    return {"/".join(e["fullUrl"].split("/")[-2:]) + "/" + e["response"]["etag"][3:-1] for e in bundle.get("entry", [])}


def _obs(oid: str, patient: str) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final", "code": {"text": "x"},
            "subject": {"reference": f"Patient/{patient}"}}


def history_pages(client, url: str, *, of_a: bool = True) -> list[str]:
    seen = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        if of_a:
            nothing_of_b(page.json())
        seen += sorted(versions(page.json()))
        url = next((link["url"] for link in page.json()["link"] if link["relation"] == "next"), None)
    return seen


@pytest.mark.parametrize("path", ["Observation/_history", "_history", "Patient/_history", "Encounter/_history",
                                  "Provenance/_history", "_history?_count=2", "Observation/_history?_since=2000"])
def test_type_and_system_history_hold_nothing_of_b(alice, path):
    r = alice.get(path)
    assert r.status_code == 200, r.text
    nothing_of_b(r.json())
    assert not {v.rsplit("/", 1)[0] for v in versions(r.json())} & B_THINGS


def test_history_lists_a_s_versions_across_pages(alice):
    assert sorted(history_pages(alice, "Observation/_history?_count=1")) == [
        "Observation/a-focus/1", "Observation/a-lab/1", "Observation/a-vital/1"]
    everything = history_pages(alice, "_history?_count=2")
    assert {"Patient/A/1", "Encounter/a-enc/1", "Practitioner/doc/1"} <= set(everything)
    assert not any(v.startswith("AuditEvent/") for v in everything)  # "*" grants never reach the trail


def test_history_of_moved_and_deleted_resources(secure, admin, alice, two_patients):
    """Membership is judged on the current version AND on each version: a resource moved
    from B to A shows A only the versions that were A's; a deletion is judged by the
    version it deleted; a resource deleted now is in no compartment."""
    json = {"Content-Type": FHIR_JSON}
    moved = _obs("moved", "B")
    assert admin.put("Observation/moved", json=moved, headers=json).status_code == 201
    assert admin.delete("Observation/moved").status_code in (200, 204)
    assert admin.put("Observation/moved", json={**moved, "valueString": "v3"}, headers=json).status_code == 201
    assert admin.put("Observation/moved", json=_obs("moved", "A"), headers=json).status_code == 200
    assert admin.delete("Observation/b-lab").status_code in (200, 204)
    assert admin.delete("Observation/a-vital").status_code in (200, 204)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for url in ("Observation/_history?_count=1", "Observation/_history?_count=3", "_history?_count=4",
                "Observation/_history?_since=2000-01-01", f"Observation/_history?_at={now[:4]}"):
        seen = history_pages(alice, url)
        mine = {v for v in seen if v.startswith("Observation/")}
        assert mine == {"Observation/a-focus/1", "Observation/a-lab/1", "Observation/moved/4"}, (url, mine)
    r = alice.get("Observation/moved/_history")
    assert r.status_code == 200
    assert versions(r.json()) == {"Observation/moved/4"}
    assert "total" not in r.json()  # three versions out of reach: not counted
    assert "Bravo" not in r.text and "Patient/B" not in r.text
    assert alice.get("Observation/a-vital/_history").status_code == 404  # deleted: out of every compartment
    # vread judges the version too: B's versions of the moved Observation stay out of reach.
    assert alice.get("Observation/moved/_history/4").status_code == 200
    for old_version in (1, 3):
        r = alice.get(f"Observation/moved/_history/{old_version}")
        assert r.status_code == 404 and "Bravo" not in r.text and "Patient/B" not in r.text
    # Backend history still holds it all.
    with secure.client("system/*.rs") as reader:
        assert {"Observation/moved/1", "Observation/moved/2", "Observation/b-lab/2"} <= set(
            history_pages(reader, "Observation/_history?_count=50", of_a=False))


def test_query_narrowed_history(secure, two_patients):
    with secure.client("user/Observation.rs?category=laboratory") as labs:
        seen = {v.rsplit("/", 1)[0] for v in history_pages(labs, "Observation/_history?_count=2", of_a=False)}
        assert seen == {"Observation/a-lab", "Observation/a-focus", "Observation/b-lab"}
        assert labs.get("Patient/_history").status_code == 403
    with secure.client("patient/Observation.rs?category=vital-signs", patient="B") as vitals:
        assert sorted(history_pages(vitals, "Observation/_history", of_a=False)) == ["Observation/b-vital/1",
                                                                         "Observation/b-vital/2"]


def test_batch_entries_are_checked_one_by_one(alice):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient/B"}},
        {"request": {"method": "GET", "url": "Observation?subject=Patient/B"}},
        {"request": {"method": "GET", "url": "Patient/A"}},
        {"request": {"method": "GET", "url": "Patient/B/$meta"}},
        {"request": {"method": "GET", "url": "Observation/_history"}},
    ]}
    r = alice.post("", json=bundle, headers={"Content-Type": FHIR_JSON})
    assert r.status_code == 200, r.text
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses[0].startswith("404") and statuses[2].startswith("200")
    assert statuses[3].startswith("404") and statuses[4].startswith("200")
    assert r.json()["entry"][1]["resource"].get("entry", []) == []
    assert versions(r.json()["entry"][4]["resource"]) == {
        "Observation/a-lab/1", "Observation/a-vital/1", "Observation/a-focus/1"}
    assert "Bravo" not in r.text


def test_operations_on_b_are_not_found(alice):
    assert alice.get("Patient/B/$meta").status_code == 404
    assert alice.get("Patient/A/$meta").status_code == 200
    r = alice.post("$reindex", json={"resourceType": "Parameters"}, headers={"Content-Type": FHIR_JSON})
    assert r.status_code == 403


def test_writes_cannot_reach_b(secure, two_patients):
    with secure.client("patient/*.cruds", patient="A") as writer:
        obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
               "subject": {"reference": "Patient/B"}}
        r = writer.post("Observation", json=obs, headers={"Content-Type": FHIR_JSON})
        assert r.status_code == 403, r.text
        assert writer.put("Observation/b-lab", json={**obs, "id": "b-lab"},
                          headers={"Content-Type": FHIR_JSON}).status_code == 404
        assert writer.delete("Observation/b-lab").status_code == 404
        patch = [{"op": "replace", "path": "/status", "value": "amended"}]
        assert writer.patch("Observation/b-lab", json=patch,
                            headers={"Content-Type": "application/json-patch+json"}).status_code == 404
        # Moving A's observation to B is a write out of reach too, and rolls back.
        moved = {**two_patients["a-lab"], "subject": {"reference": "Patient/B"}}
        assert writer.put("Observation/a-lab", json=moved, headers={"Content-Type": FHIR_JSON}).status_code == 403
        tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:1", "resource": {**obs, "subject": {"reference": "Patient/A"}},
             "request": {"method": "POST", "url": "Observation"}},
            {"resource": obs, "request": {"method": "POST", "url": "Observation"}}]}
        assert writer.post("", json=tx, headers={"Content-Type": FHIR_JSON}).status_code == 403
        obs_a = {**obs, "subject": {"reference": "Patient/A"}}
        assert writer.post("Observation", json=obs_a, headers={"Content-Type": FHIR_JSON}).status_code == 201
    with secure.client("system/*.rs") as reader:
        r = reader.get("Observation", params={"_total": "accurate"}).json()
        assert r["total"] == 6  # five seeded + the one A's token filed under A; nothing from the refused writes
        assert reader.get("Observation/b-lab").json()["status"] == "final"
        assert reader.get("Observation/a-lab").json()["subject"]["reference"] == "Patient/A"


def test_operation_answers_pass_through_the_generic_filter(secure, two_patients):
    """What any operation handler returns is filtered by the registry: a Bundle loses
    the entries naming stored resources out of reach; a stored resource out of reach is
    a 404. (Run on the registry's own function, with a real unit of work.)"""
    from server.api.outcome import Answer
    from server.authz.access import Access, grants_of
    from server.bundles.build import bundle, search_entry
    from server.errors import NotFound
    from server.operations.registry import OperationCall, visible_answer

    access = Access(grants_of([A_SCOPES]), patient="A", client_id="app")
    with secure.ctx.store.read() as uow:
        refs = ("Patient/A", "Patient/B", "Observation/b-lab", "Observation/a-lab", "Observation/b-vital")
        found = {s.reference: s for s in uow.read_many([uow.pid_of(*ref.split("/")) for ref in refs])}
        entries = [search_entry("http://x/fhir", found[ref], "match") for ref in refs[:4]]
        entries.append({"resource": {"resourceType": "OperationOutcome", "issue": []}})
        call = OperationCall(uow, secure.ctx, "http://x/fhir", "Patient", None, {}, None, access=access)
        answer = visible_answer(call, Answer(200, body=bundle("searchset", entries)))
        kept = [e.get("fullUrl") for e in answer.body["entry"]]
        assert kept == ["http://x/fhir/Patient/A", "http://x/fhir/Observation/a-lab", None]
        with pytest.raises(NotFound):
            visible_answer(call, Answer(200, found["Observation/b-vital"]))


def test_types_outside_the_compartment_that_may_hold_patient_data(secure, admin, two_patients):
    """Binary, Bundle, Task... have no compartment link: a patient token reaches none of
    them; directory and drug types (Practitioner, Medication) it reaches whole."""
    binary = {"resourceType": "Binary", "id": "b-doc", "contentType": "text/plain", "data": "QnJhdm8="}
    task = {"resourceType": "Task", "id": "b-task", "status": "requested", "intent": "order",
            "for": {"reference": "Patient/B"}}
    for resource in (binary, task):
        r = admin.put(f"{resource['resourceType']}/{resource['id']}", json=resource,
                      headers={"Content-Type": FHIR_JSON})
        assert r.status_code == 201, r.text
    with secure.client(A_SCOPES, patient="A") as alice:
        assert alice.get("Binary/b-doc").status_code == 404
        assert alice.get("Task/b-task").status_code == 404
        assert ids(alice.get("Task").json()) == set()
        found = ids(alice.get("", params={"_type": "Binary,Task,Practitioner"}).json())
        assert "Practitioner/doc" in found and not {"Binary/b-doc", "Task/b-task"} & found


def test_patient_everything(alice, secure):
    from server.operations import OPERATIONS

    if "everything" not in OPERATIONS.operations:
        pytest.skip("Patient/$everything is not registered")
    assert alice.get("Patient/B/$everything").status_code == 404
    r = alice.get("Patient/A/$everything")
    assert r.status_code == 200, r.text
    nothing_of_b(r.json())
    assert {"Patient/A", "Observation/a-lab", "Encounter/a-enc"} <= ids(r.json())
    with secure.client("patient/Observation.rs", patient="A") as narrow:
        assert narrow.get("Patient/A/$everything").status_code == 403  # it cannot read Patient/A itself
    with secure.client("patient/Observation.rs patient/Patient.rs", patient="A") as narrow:
        found = ids(narrow.get("Patient/A/$everything").json())
        assert found and all(t.split("/")[0] in ("Observation", "Patient") for t in found)


def test_a_version_out_of_the_compartment_is_not_found(secure, admin, two_patients):
    """``check_version`` (for vread): judged as history judges it. Run on the function with a
    real unit of work: the vread route still checks the current version only (docs/security.md)."""
    from server.authz.access import Access, grants_of
    from server.authz.guard import check_instance
    from server.authz.history import check_version
    from server.errors import NotFound

    json = {"Content-Type": FHIR_JSON}
    assert admin.put("Observation/moved", json=_obs("moved", "B"), headers=json).status_code == 201
    assert admin.put("Observation/moved", json=_obs("moved", "A"), headers=json).status_code == 200
    access = Access(grants_of([A_SCOPES]), patient="A", client_id="app")
    with secure.ctx.store.read() as uow:
        assert check_version(uow, uow.vread("Observation", "moved", 2), access).version_id == 2
        with pytest.raises(NotFound):
            check_version(uow, uow.vread("Observation", "moved", 1), access)
        with pytest.raises(NotFound):  # B: the resource is A's now, every version is out of reach
            check_instance(uow, "r", "Observation", "moved", Access(grants_of([A_SCOPES]), patient="B"))
        assert check_version(uow, uow.vread("Observation", "moved", 1), Access(grants_of(["user/*.rs"])))
