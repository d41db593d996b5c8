"""Matching again when a linked record's matching fields change (server.mdm.listener), and
golden records refreshed from their sources (server.mdm.survivorship), through the REST API."""

from __future__ import annotations

from .helpers import create, golden_of, parameters, patient, review_tasks

HOME = [{"line": ["3 rue des Lilas"], "postalCode": "75011", "city": "Paris"}]
PHONE = [{"system": "phone", "value": "06 12 34 56 78"}]


def helene(**extra) -> dict:
    return patient(**{"address": HOME, "telecom": PHONE, **extra})


def jean(**extra) -> dict:
    return patient(family="Martin", given="Jean", birth="1955-11-30", gender="male",
                   **{"address": [{"line": ["8 avenue Foch"], "postalCode": "69006", "city": "Lyon"}],
                      "telecom": [{"system": "phone", "value": "04 78 00 11 22"}], **extra})


def put(fhir, resource_id: str, resource: dict) -> dict:
    response = fhir.put(f"/Patient/{resource_id}", json={**resource, "id": resource_id})
    assert response.status_code == 200, response.text
    return response.json()


def read(fhir, reference: str) -> dict:
    response = fhir.get(f"/{reference}")
    assert response.status_code == 200, response.text
    return response.json()


def sources(golden: dict) -> set[str]:
    return {link["other"]["reference"] for link in golden.get("link", []) if link["type"] == "seealso"}


def test_an_edit_that_makes_a_certain_match_elsewhere_relinks(fhir):
    first = create(fhir, helene())
    other = create(fhir, jean())
    old_golden = golden_of(other)
    assert old_golden != golden_of(first)
    # The second record was Hélène Dupré all along; the feed corrects it.
    edited = put(fhir, other["id"], helene(identifier=[{"system": "urn:oid:1.2.3.4", "value": "IPP-9"}]))
    assert golden_of(edited) == golden_of(first)
    assert sources(read(fhir, golden_of(first))) == {f"Patient/{first['id']}", f"Patient/{other['id']}"}
    assert fhir.get(f"/{old_golden}").status_code == 410  # its last source left
    assert review_tasks(fhir) == []


def test_an_edit_does_not_move_a_link_a_person_confirmed(fhir):
    first = create(fhir, patient())
    second = create(fhir, patient(birth="1980-04-03"))  # probable: a review Task
    task = review_tasks(fhir)[0]
    assert fhir.post(f"/Task/{task['id']}/$mdm-confirm", json=parameters()).status_code == 200
    confirmed = read(fhir, f"Patient/{second['id']}")
    assert golden_of(confirmed) == golden_of(first)
    other = create(fhir, jean())
    # The confirmed record now reads as Jean Martin: certain with the other golden record,
    # but a person decided its link: a review Task asks, nothing moves.
    edited = put(fhir, second["id"], jean())
    assert golden_of(edited) == golden_of(first)
    tasks = review_tasks(fhir)
    assert len(tasks) == 1
    inputs = {i["type"]["text"]: i for i in tasks[0]["input"] if i["type"]["text"] != "evidence"}
    assert tasks[0]["focus"]["reference"] == f"Patient/{second['id']}"
    assert inputs["candidate"]["valueReference"]["reference"] == golden_of(other)
    assert inputs["grade"]["valueCode"] == "certain"
    assert inputs["question"]["valueCode"] == "same-person"


def test_an_edit_that_stops_matching_asks_and_reject_separates(fhir):
    first = create(fhir, helene())
    second = create(fhir, helene(name=[{"family": "DUPRE", "given": ["helene"]}]))
    shared = golden_of(first)
    assert golden_of(second) == shared
    edited = put(fhir, second["id"], jean())  # no longer anything like Hélène Dupré
    assert golden_of(edited) == shared  # asked, not moved
    tasks = review_tasks(fhir)
    assert len(tasks) == 1
    inputs = {i["type"]["text"]: i for i in tasks[0]["input"] if i["type"]["text"] != "evidence"}
    assert inputs["question"]["valueCode"] == "still-same-person"
    assert inputs["candidate"]["valueReference"]["reference"] == shared
    assert "still the same person" in tasks[0]["description"]
    assert fhir.post(f"/Task/{tasks[0]['id']}/$mdm-reject", json=parameters()).status_code == 200
    separated = read(fhir, f"Patient/{second['id']}")
    assert golden_of(separated) != shared
    assert sources(read(fhir, shared)) == {f"Patient/{first['id']}"}
    own = read(fhir, golden_of(separated))
    assert own["name"][0]["family"] == "Martin" and sources(own) == {f"Patient/{second['id']}"}


def test_confirming_a_doubt_keeps_the_link_as_a_decision(fhir):
    first = create(fhir, helene())
    second = create(fhir, helene(name=[{"family": "DUPRE", "given": ["helene"]}]))
    put(fhir, second["id"], jean())
    task = review_tasks(fhir)[0]
    assert fhir.post(f"/Task/{task['id']}/$mdm-confirm", json=parameters()).status_code == 200
    kept = read(fhir, f"Patient/{second['id']}")
    assert golden_of(kept) == golden_of(first)
    link = next(link for link in kept["link"] if link["type"] == "refer")
    assert link["other"]["extension"] == [{"url": "urn:passerelle:mdm:link-assurance", "valueCode": "manual"}]
    # A later edit of a decided link is not asked about again unless it matches elsewhere.
    put(fhir, second["id"], jean(birthDate="1955-11-29"))
    assert review_tasks(fhir) == []


def test_an_edit_of_no_matching_field_rewrites_nothing(fhir):
    first = create(fhir, helene())
    golden = read(fhir, golden_of(first))
    put(fhir, first["id"], helene(multipleBirthBoolean=False))  # neither matched on nor shown
    assert read(fhir, golden_of(first))["meta"]["versionId"] == golden["meta"]["versionId"]
    assert review_tasks(fhir) == []


def test_golden_record_follows_its_sources(fhir):
    first = create(fhir, helene())
    second = create(fhir, helene(name=[{"family": "DUPRE", "given": ["helene"]}],
                                 telecom=PHONE + [{"system": "email", "value": "helene@example.org"}]))
    golden = read(fhir, golden_of(first))
    # telecom: union of the sources; name: the most trusted, all equal here: the most recent.
    assert {t["value"] for t in golden["telecom"]} == {"06 12 34 56 78", "helene@example.org"}
    assert golden["name"] == [{"family": "DUPRE", "given": ["helene"]}]
    # The first source moves house: the golden record shows the most recent address.
    moved = [{"line": ["3 rue des Lilas"], "postalCode": "75011", "city": "Paris", "use": "old"},
             {"line": ["12 rue Oberkampf"], "postalCode": "75011", "city": "Paris"}]
    put(fhir, first["id"], helene(address=moved))
    golden = read(fhir, golden_of(first))
    assert golden["address"] == moved
    assert sources(golden) == {f"Patient/{first['id']}", f"Patient/{second['id']}"}
    assert "identifier" not in golden  # identifiers stay on the sources


def test_deleting_a_source_refreshes_its_golden_record(fhir):
    first = create(fhir, helene())
    second = create(fhir, helene(name=[{"family": "DUPRE", "given": ["helene"]}]))
    assert fhir.delete(f"/Patient/{second['id']}").status_code in (200, 204)
    golden = read(fhir, golden_of(first))
    assert golden["name"] == first["name"] and sources(golden) == {f"Patient/{first['id']}"}
