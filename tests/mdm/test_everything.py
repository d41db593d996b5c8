"""Patient/$everything over HTTP: compartment, filters, paging, golden records."""

from __future__ import annotations

from .helpers import create, golden_of, parameters, patient


def ref(resource: dict) -> dict:
    return {"reference": f"Patient/{resource['id']}"}


def observation(subject: dict, when: str, text: str = "weight") -> dict:
    return {"resourceType": "Observation", "status": "final", "code": {"text": text}, "subject": subject,
            "effectiveDateTime": when}


def everything(fhir, patient_id: str, *params) -> dict:
    response = fhir.post(f"/Patient/{patient_id}/$everything", json=parameters(*params))
    assert response.status_code == 200, response.text
    return response.json()


def ids(bundle: dict) -> set[str]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])}


def key(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def test_compartment_with_filters_and_paging(fhir):
    p = create(fhir, patient())
    someone_else = create(fhir, patient(family="Martin", given="Jean", birth="1955-11-30", gender="male"))
    old = create(fhir, observation(ref(p), "2020-05-01"))
    new = create(fhir, observation(ref(p), "2023-06-01"))
    condition = create(fhir, {"resourceType": "Condition", "subject": ref(p), "code": {"text": "asthma"}})
    create(fhir, observation(ref(someone_else), "2023-06-01"))

    everything_of_p = everything(fhir, p["id"])
    # The golden record links to its source: it is in the source's compartment.
    assert ids(everything_of_p) == {key(p), golden_of(p), key(old), key(new), key(condition)}
    assert everything_of_p["total"] == 5

    typed = everything(fhir, p["id"], {"name": "_type", "valueString": "Observation"})
    assert ids(typed) == {key(old), key(new)}
    # Care dates filter the types that have one; undated resources stay.
    recent = everything(fhir, p["id"], {"name": "start", "valueDate": "2022-01-01"})
    assert ids(recent) == {key(new), key(condition), key(p), golden_of(p)}
    until = everything(fhir, p["id"], {"name": "end", "valueDate": "2021-01-01"},
                       {"name": "_type", "valueString": "Observation"})
    assert ids(until) == {key(old)}

    first = everything(fhir, p["id"], {"name": "_count", "valueInteger": 3})
    assert len(first["entry"]) == 3 and first["total"] == 5
    next_link = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_offset=3" in next_link and "_count=3" in next_link
    second = everything(fhir, p["id"], {"name": "_count", "valueInteger": 3}, {"name": "_offset", "valueInteger": 3})
    assert len(second["entry"]) == 2 and not ids(first) & ids(second)
    assert ids(first) | ids(second) == ids(everything_of_p)


def test_since_keeps_what_changed(fhir):
    p = create(fhir, patient())
    create(fhir, observation(ref(p), "2020-05-01"))
    later = fhir.get(f"/Patient/{p['id']}").json()["meta"]["lastUpdated"]
    changed = create(fhir, observation(ref(p), "2021-05-01"))
    assert changed["meta"]["lastUpdated"] > later
    since = everything(fhir, p["id"], {"name": "_since", "valueInstant": changed["meta"]["lastUpdated"]})
    assert ids(since) == {key(changed)}


def test_golden_record_covers_every_linked_source(fhir):
    a = create(fhir, patient(telecom=[{"system": "phone", "value": "0612345678"}]))
    b = create(fhir, patient(family="DUPRE", telecom=[{"system": "phone", "value": "+33612345678"}]))
    assert golden_of(a) == golden_of(b)
    obs_a = create(fhir, observation(ref(a), "2020-05-01"))
    obs_b = create(fhir, observation(ref(b), "2021-05-01"))
    golden_id = golden_of(a).split("/")[1]
    found = everything(fhir, golden_id)
    assert {key(obs_a), key(obs_b), key(a), key(b), f"Patient/{golden_id}"} == ids(found)
    # A source's own $everything stays its own.
    assert key(obs_b) not in ids(everything(fhir, a["id"]))


def test_bad_parameters(fhir):
    p = create(fhir, patient())
    assert fhir.post(f"/Patient/{p['id']}/$everything", json=parameters(
        {"name": "_type", "valueString": "Organization"})).status_code == 400
    assert fhir.post(f"/Patient/{p['id']}/$everything", json=parameters(
        {"name": "_count", "valueInteger": 0})).status_code == 400
    assert fhir.post("/Patient/unknown/$everything", json=parameters()).status_code == 404


def test_get_takes_the_underscore_parameters_and_its_next_link_works(fhir):
    p = create(fhir, patient())
    for year in (2020, 2021, 2022):
        create(fhir, observation(ref(p), f"{year}-05-01"))
    first = fhir.get(f"/Patient/{p['id']}/$everything", params={"_type": "Observation", "_count": "2"})
    assert first.status_code == 200, first.text
    first = first.json()
    assert first["total"] == 3 and len(first["entry"]) == 2
    assert {e["resource"]["resourceType"] for e in first["entry"]} == {"Observation"}
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = fhir.get(next_url).json()
    assert len(second["entry"]) == 1 and not ids(first) & ids(second)
