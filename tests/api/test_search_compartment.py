"""Compartment search (``Patient/123/Observation``, ``Patient/123/*``) and system-level
search (``[base]?_type=…``, ``POST [base]/_search``)."""

from __future__ import annotations

LOINC = "http://loinc.org"


def load(fhir, *resources: dict) -> None:
    entries = [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for r in resources]
    response = fhir.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert response.status_code == 200, response.text


def matches(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in response.json()["entry"]
                  if e["search"]["mode"] == "match")


def ward(fhir) -> None:
    load(fhir,
         {"resourceType": "Patient", "id": "p1", "name": [{"family": "Martin"}]},
         {"resourceType": "Patient", "id": "p2", "name": [{"family": "Durand"}]},
         {"resourceType": "Patient", "id": "p1-other", "link": [{"other": {"reference": "Patient/p1"},
                                                                  "type": "seealso"}]},
         {"resourceType": "Practitioner", "id": "dr", "name": [{"family": "House"}]},
         {"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"},
          "code": {"coding": [{"system": LOINC, "code": "1-1"}]}},
         {"resourceType": "Observation", "id": "o2", "status": "final", "subject": {"reference": "Patient/p2"},
          "performer": [{"reference": "Patient/p1"}], "code": {"coding": [{"system": LOINC, "code": "2-2"}]}},
         {"resourceType": "Observation", "id": "o3", "status": "final", "subject": {"reference": "Patient/p2"},
          "code": {"coding": [{"system": LOINC, "code": "1-1"}]}},
         {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
          "asserter": {"reference": "Practitioner/dr"}},
         {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"},
          "subject": {"reference": "Patient/p1"}})


def test_compartment_of_one_type(fhir):
    ward(fhir)
    # In the compartment by subject (o1) or by performer (o2): the CompartmentDefinition's params.
    assert matches(fhir.get("/Patient/p1/Observation")) == ["Observation/o1", "Observation/o2"]
    assert matches(fhir.get("/Patient/p2/Observation")) == ["Observation/o2", "Observation/o3"]
    assert matches(fhir.get("/Patient/p1/Observation", params={"code": f"{LOINC}|1-1"})) == ["Observation/o1"]
    assert matches(fhir.get("/Patient/nobody/Observation")) == []
    bundle = fhir.get("/Patient/p1/Observation", params={"_count": "1", "_total": "accurate"}).json()
    assert bundle["total"] == 2
    assert bundle["link"][0]["url"].endswith("/fhir/Patient/p1/Observation?_count=1&_total=accurate")
    next_url = next(lk["url"] for lk in bundle["link"] if lk["relation"] == "next")
    assert "/fhir/Patient/p1/Observation?" in next_url
    assert len(matches(fhir.get(next_url))) == 1


def test_compartment_follows_the_definition_not_the_param_name(fhir):
    ward(fhir)
    # Encounter is in the R4 Patient compartment by "patient" (subject restricted to patients).
    assert matches(fhir.get("/Patient/p1/Encounter")) == ["Encounter/e1"]
    # The patient itself, and a patient linking to it.
    assert matches(fhir.get("/Patient/p1/Patient")) == ["Patient/p1", "Patient/p1-other"]


def test_whole_compartment(fhir):
    ward(fhir)
    everything = matches(fhir.get("/Patient/p1/*"))
    assert everything == ["Condition/c1", "Encounter/e1", "Observation/o1", "Observation/o2", "Patient/p1",
                          "Patient/p1-other"]
    assert "Practitioner/dr" not in everything
    assert matches(fhir.get("/Patient/p1/*", params={"_type": "Condition,Encounter"})) == ["Condition/c1",
                                                                                          "Encounter/e1"]
    assert matches(fhir.get("/Patient/p1/*", params={"_id": "o1,c1"})) == ["Condition/c1", "Observation/o1"]


def test_compartment_post_search(fhir):
    ward(fhir)
    response = fhir.post("/Patient/p1/Observation/_search", data={"code": f"{LOINC}|2-2"},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert matches(response) == ["Observation/o2"]


def test_compartment_errors(fhir):
    ward(fhir)
    assert fhir.get("/Practitioner/dr/Observation").status_code == 404  # no Practitioner compartment here
    assert fhir.get("/Patient/p1/Organization").status_code == 400  # never in a Patient compartment
    assert fhir.get("/Patient/p1/NotAType").status_code == 404
    assert fhir.get("/Patient/p1/*", params={"_type": "Organization"}).status_code == 400


def test_routes_around_the_compartment_still_work(fhir):
    ward(fhir)
    assert fhir.get("/Patient/p1/_history").json()["type"] == "history"
    assert fhir.get("/Patient/p1/_history/1").json()["id"] == "p1"
    assert fhir.get("/Patient/p1").json()["id"] == "p1"
    assert fhir.delete("/Patient/p1/Observation").status_code == 405


def test_system_search(fhir):
    ward(fhir)
    assert matches(fhir.get("", params={"_type": "Patient,Condition", "_id": "p1,c1,o1"})) == ["Condition/c1",
                                                                                              "Patient/p1"]
    assert matches(fhir.get("", params={"_id": "p1,c1,o1"})) == ["Condition/c1", "Observation/o1", "Patient/p1"]
    assert len(matches(fhir.get("", params={"_count": "100"}))) == 9
    bundle = fhir.get("", params={"_type": "Observation", "code": f"{LOINC}|1-1"}).json()  # a type's own param
    assert bundle["total"] == 2
    assert bundle["link"][0]["url"].split("?")[0].endswith("/fhir")
    # Without _type only the parameters every type has: others are reported, not applied.
    lenient = fhir.get("", params={"code": "x", "_id": "o1"}).json()
    assert [e["search"]["mode"] for e in lenient["entry"]] == ["match", "outcome"]
    assert fhir.get("", params={"_type": "NotAType"}).status_code == 400
    response = fhir.post("/_search", data={"_type": "Patient", "name": "martin"},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert matches(response) == ["Patient/p1"]
    assert matches(fhir.get("/", params={"_id": "p2"})) == ["Patient/p2"]
