"""Write-time matching through the REST API: golden records, automatic links, review Tasks."""

from __future__ import annotations

from .helpers import create, golden_of, goldens, patient, review_tasks


def test_first_record_gets_its_own_golden_record(fhir):
    source = create(fhir, patient())
    golden = fhir.get(f"/{golden_of(source)}").json()
    assert golden["name"] == source["name"] and golden["birthDate"] == "1980-03-04"
    assert {"other": {"reference": f"Patient/{source['id']}"}, "type": "seealso"} in golden["link"]
    assert "identifier" not in golden
    assert [g["id"] for g in goldens(fhir)] == [golden["id"]]


def test_certain_match_is_linked_automatically(fhir):
    first = create(fhir, patient(address=[{"line": ["3 rue des Lilas"], "postalCode": "75011", "city": "Paris"}],
                                 telecom=[{"system": "phone", "value": "06 12 34 56 78"}]))
    # Accents, case, particle and hyphen differ; same phone in international form.
    second = create(fhir, patient(family="DUPRE", given="helene",
                                  address=[{"line": ["3, rue des lilas"], "postalCode": "75011", "city": "PARIS"}],
                                  telecom=[{"system": "phone", "value": "+33 6 12 34 56 78"}]))
    assert golden_of(second) == golden_of(first)
    golden = fhir.get(f"/{golden_of(first)}").json()
    sources = {link["other"]["reference"] for link in golden["link"] if link["type"] == "seealso"}
    assert sources == {f"Patient/{first['id']}", f"Patient/{second['id']}"}
    assert len(goldens(fhir)) == 1
    assert review_tasks(fhir) == []
    # Searchable: the golden record is found through its source's reference.
    found = fhir.get("/Patient", params={"link": f"Patient/{second['id']}"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [golden["id"]]


def test_doubtful_match_creates_a_review_task_with_evidence(fhir):
    first = create(fhir, patient())
    # Same names, birth date with day and month transposed: probable, not certain.
    second = create(fhir, patient(birth="1980-04-03"))
    assert golden_of(second) != golden_of(first)
    tasks = review_tasks(fhir)
    assert len(tasks) == 1
    task = tasks[0]
    assert task["focus"]["reference"] == f"Patient/{second['id']}"
    inputs = {i["type"]["text"]: i for i in task["input"] if i["type"]["text"] != "evidence"}
    assert inputs["candidate"]["valueReference"]["reference"] == golden_of(first)
    assert inputs["grade"]["valueCode"] in ("probable", "possible")
    evidence = [i["valueString"] for i in task["input"] if i["type"]["text"] == "evidence"]
    assert any(e.startswith("birth_date: day-month-transposed") for e in evidence)
    assert any(e.startswith("family: exact") for e in evidence)


def test_different_people_are_not_linked(fhir):
    first = create(fhir, patient())
    other = create(fhir, patient(family="Martin", given="Jean", birth="1955-11-30", gender="male"))
    assert golden_of(other) != golden_of(first)
    assert review_tasks(fhir) == []
    assert len(goldens(fhir)) == 2


def test_update_keeps_the_link_the_client_did_not_send(fhir):
    source = create(fhir, patient())
    sent = patient(family="Dupré-Moreau")  # no link element
    updated = fhir.put(f"/Patient/{source['id']}", json={**sent, "id": source["id"]}).json()
    assert golden_of(updated) == golden_of(source)


def test_deleting_the_only_source_retires_its_golden_record(fhir):
    source = create(fhir, patient())
    golden = golden_of(source)
    assert fhir.delete(f"/Patient/{source['id']}").status_code in (200, 204)
    assert fhir.get(f"/{golden}").status_code == 410


def test_transaction_with_the_same_person_twice_gives_one_golden_record(fhir):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": patient(identifier=[
            {"system": "urn:oid:1.2.3.4", "value": "IPP-1"}])},
        {"request": {"method": "POST", "url": "Patient"}, "resource": patient(identifier=[
            {"system": "urn:oid:1.2.3.4", "value": "IPP-1"}])},
    ]}
    response = fhir.post("", json=bundle)
    assert response.status_code == 200, response.text
    assert len(goldens(fhir)) == 1


def test_practitioner_sources_link_through_extensions(fhir):
    rpps = {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810001234567"}
    first = create(fhir, {"resourceType": "Practitioner", "identifier": [rpps],
                          "name": [{"family": "Lefèvre", "given": ["Anne"]}]})
    second = create(fhir, {"resourceType": "Practitioner", "identifier": [rpps],
                           "name": [{"family": "LEFEVRE", "given": ["Anne-Marie"]}]})

    def golden(resource):
        return [e["valueReference"]["reference"] for e in resource["extension"]
                if e["url"] == "urn:passerelle:mdm:golden-record"]

    assert golden(first) == golden(second) and len(golden(first)) == 1
    assert len(goldens(fhir, "Practitioner")) == 1


def test_namesakes_with_other_registry_numbers_are_other_people(fhir):
    # Registries number professionals in sequence: 810001234567 and 810001234568 are two
    # people, not a typo. Same name, same city, neighbouring numbers: no link, no review.
    for number in ("810001234567", "810001234568", "810001234576"):
        create(fhir, {"resourceType": "Practitioner", "name": [{"family": "MARTIN", "given": ["JEAN"]}],
                      "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": number},
                                     {"system": "https://rpps.esante.gouv.fr", "value": number[1:]}],
                      "address": [{"city": "PARIS", "postalCode": "75015"}]})
    assert len(goldens(fhir, "Practitioner")) == 3
    assert review_tasks(fhir) == []


def test_a_deleted_golden_record_does_not_block_ingest(fhir):
    first = create(fhir, patient())
    assert fhir.delete(f"/{golden_of(first)}").status_code in (200, 204)
    again = create(fhir, patient())  # certain match with a record whose golden record is gone
    assert golden_of(again) != golden_of(first)
    assert fhir.get(f"/{golden_of(again)}").status_code == 200
