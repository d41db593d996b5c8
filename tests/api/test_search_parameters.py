"""SearchParameter resources written through the API change what is indexed and searchable."""

from __future__ import annotations

import httpx
import pytest

from server.app import create_app
from server.config import Settings
from tests.conftest import start_server

EYE = "http://example.org/fhir/StructureDefinition/eye-colour"
SP_URL = "http://example.org/fhir/SearchParameter/patient-eye-colour"


def eye_parameter(**changes) -> dict:
    sp = {"resourceType": "SearchParameter", "url": SP_URL, "name": "EyeColour", "status": "active",
          "description": "Eye colour (extension)", "code": "eye-colour", "base": ["Patient"], "type": "token",
          "expression": f"Patient.extension.where(url='{EYE}').value"}
    sp.update(changes)
    return {k: v for k, v in sp.items() if v is not None}


def patient(colour: str, family: str = "Durand") -> dict:
    return {"resourceType": "Patient", "name": [{"family": family}],
            "extension": [{"url": EYE, "valueCode": colour}]}


def ids(bundle: dict) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"}


def unknown(bundle: dict) -> list[str]:
    return [x for e in bundle.get("entry", []) if e["search"]["mode"] == "outcome"
            for i in e["resource"]["issue"] for x in i.get("expression", [])]


def test_new_parameter_indexes_resources_written_afterwards(fhir):
    old = fhir.post("/Patient", json=patient("blue")).json()["id"]
    created = fhir.post("/SearchParameter", json=eye_parameter())
    assert created.status_code == 201, created.text

    before = fhir.get("/Patient", params={"eye-colour": "blue"}).json()
    assert unknown(before) == [] and ids(before) == set()  # known now, but the old one is not indexed yet
    new = fhir.post("/Patient", json=patient("blue")).json()["id"]
    fhir.post("/Patient", json=patient("green"))
    assert ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json()) == {new}
    assert old not in ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json())

    metadata = fhir.get("/metadata").json()
    patient_entry = next(r for r in metadata["rest"][0]["resource"] if r["type"] == "Patient")
    assert {"name": "eye-colour", "definition": SP_URL, "type": "token"} in patient_entry["searchParam"]


def test_deleted_parameter_stops_matching(fhir):
    sp = fhir.post("/SearchParameter", json=eye_parameter()).json()
    fhir.post("/Patient", json=patient("blue"))
    assert len(ids(fhir.get("/Patient", params={"eye-colour": "blue"}).json())) == 1

    assert fhir.delete(f"/SearchParameter/{sp['id']}").status_code == 200
    lenient = fhir.get("/Patient", params={"eye-colour": "blue"}).json()
    assert unknown(lenient) == ["eye-colour"]
    strict = fhir.get("/Patient", params={"eye-colour": "blue"}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["code"] == "not-supported"
    metadata = fhir.get("/metadata").json()
    patient_entry = next(r for r in metadata["rest"][0]["resource"] if r["type"] == "Patient")
    assert "eye-colour" not in {p["name"] for p in patient_entry["searchParam"]}


def test_updated_and_retired_parameters(fhir):
    sp = fhir.put("/SearchParameter/eye", json=eye_parameter(id="eye")).json()  # update-as-create
    assert sp["id"] == "eye"
    # Now it indexes the family name under the same code: later writes follow the new expression.
    fhir.put("/SearchParameter/eye", json=eye_parameter(id="eye", type="string", expression="Patient.name.family"))
    written = fhir.post("/Patient", json=patient("blue", family="Lemaire")).json()["id"]
    assert ids(fhir.get("/Patient", params={"eye-colour": "lemaire"}).json()) == {written}

    fhir.put("/SearchParameter/eye", json=eye_parameter(id="eye", status="retired"))
    assert unknown(fhir.get("/Patient", params={"eye-colour": "lemaire"}).json()) == ["eye-colour"]


def test_parameter_in_a_transaction(fhir):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": eye_parameter(), "request": {"method": "POST", "url": "SearchParameter"}}]}
    response = fhir.post("", json=bundle)
    assert response.status_code == 200, response.text
    written = fhir.post("/Patient", json=patient("brown")).json()["id"]
    assert ids(fhir.get("/Patient", params={"eye-colour": "brown"}).json()) == {written}


@pytest.mark.parametrize("changes, element", [
    ({"base": None}, "SearchParameter.base"),
    ({"expression": "Patient.extension.where(url="}, "SearchParameter.expression"),
    ({"base": ["Patinet"]}, "SearchParameter.base[0]"),
    ({"type": "colour"}, "SearchParameter.type"),
    ({"code": "eye colour"}, "SearchParameter.code"),
])
def test_bad_parameter_is_422_naming_the_element(fhir, changes, element):
    response = fhir.post("/SearchParameter", json=eye_parameter(**changes))
    assert response.status_code == 422, response.text
    assert element in response.json()["issue"][0]["expression"]
    assert fhir.get("/SearchParameter").json().get("entry", []) == []


def test_parameter_without_expression_is_stored_but_not_searchable(fhir):
    # Valid R4 (the spec's own _text has none), but there is nothing to evaluate.
    assert fhir.post("/SearchParameter", json=eye_parameter(expression=None)).status_code == 201
    assert unknown(fhir.get("/Patient", params={"eye-colour": "blue"}).json()) == ["eye-colour"]


def test_bad_parameter_fails_its_transaction_and_put(fhir):
    bad = eye_parameter(expression="Patient.extension.where(url=")
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("blue"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": bad, "request": {"method": "POST", "url": "SearchParameter"}}]}
    assert fhir.post("", json=bundle).status_code == 422
    assert fhir.get("/Patient").json().get("entry", []) == []  # all or nothing
    assert fhir.put("/SearchParameter/bad", json={**bad, "id": "bad"}).status_code == 422


def test_two_parameters_may_not_share_a_url(fhir):
    assert fhir.post("/SearchParameter", json=eye_parameter()).status_code == 201
    again = fhir.post("/SearchParameter", json=eye_parameter(code="eyes"))
    assert again.status_code == 422
    assert again.json()["issue"][0]["expression"] == ["SearchParameter.url"]


def test_a_parameter_with_an_official_url_replaces_it_while_it_exists(fhir):
    gender = "http://hl7.org/fhir/SearchParameter/individual-gender"  # bases Patient, Person, ...
    sp = fhir.post("/SearchParameter", json=eye_parameter(url=gender, code="gender")).json()
    written = fhir.post("/Patient", json={**patient("blue"), "gender": "female"}).json()["id"]
    assert ids(fhir.get("/Patient", params={"gender": "blue"}).json()) == {written}
    assert unknown(fhir.get("/Person", params={"gender": "female"}).json()) == ["gender"]  # base: Patient only

    fhir.delete(f"/SearchParameter/{sp['id']}")
    assert unknown(fhir.get("/Person", params={"gender": "female"}).json()) == []  # the official one is back
    assert fhir.get("/Patient", params={"gender": "female"}).json().get("entry", []) == []  # until $reindex


def test_other_workers_follow(server, fhir):
    """A second server on the same database stands for another worker process."""
    other_app = create_app(context=None, settings=Settings(database_url=server.ctx.settings.database_url,
                                                           search_parameter_refresh_seconds=0, auth="disabled",
                                                           rate_limit_per_minute=0))
    other, thread, url = start_server(other_app)
    try:
        with httpx.Client(base_url=f"{url}/fhir", headers={"Accept": "application/fhir+json"}, timeout=60) as peer:
            peer.get("/Patient")  # its registry is loaded: no SearchParameter yet
            sp = fhir.post("/SearchParameter", json=eye_parameter()).json()
            written = peer.post("/Patient", json=patient("grey")).json()["id"]  # indexed by the other worker
            assert ids(fhir.get("/Patient", params={"eye-colour": "grey"}).json()) == {written}
            assert ids(peer.get("/Patient", params={"eye-colour": "grey"}).json()) == {written}
            fhir.delete(f"/SearchParameter/{sp['id']}")
            assert unknown(peer.get("/Patient", params={"eye-colour": "grey"}).json()) == ["eye-colour"]
    finally:
        other.should_exit = True
        thread.join(timeout=10)
        other_app.state.ctx.store.engine.dispose()

