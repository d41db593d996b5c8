"""$merge and $unmerge round trips over HTTP (Patient and Practitioner)."""

from __future__ import annotations

from .helpers import IPP, create, golden_of, goldens, parameters, patient


def ref(resource: dict) -> dict:
    return {"reference": f"{resource['resourceType']}/{resource['id']}"}


def post(fhir, path: str, body: dict, status: int = 200) -> dict:
    response = fhir.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def result_of(answer: dict) -> dict:
    return next(p["resource"] for p in answer["parameter"] if p["name"] == "result")


def two_records_with_data(fhir):
    """Two records of one person (different IPPs, created apart), each with clinical data."""
    source = create(fhir, patient(family="Durand", given="Paul", gender="male", birth="1970-01-01",
                                  identifier=[{"system": IPP, "value": "IPP-111"}]))
    target = create(fhir, patient(family="Durant", given="Paul", gender="male", birth="1970-01-10",
                                  identifier=[{"system": IPP, "value": "IPP-222"}]))
    observation = create(fhir, {"resourceType": "Observation", "status": "final", "code": {"text": "weight"},
                                "subject": ref(source)})
    encounter = create(fhir, {"resourceType": "Encounter", "status": "finished",
                              "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                              "subject": ref(source)})
    untouched = create(fhir, {"resourceType": "Observation", "status": "final", "code": {"text": "height"},
                              "subject": ref(target)})
    return source, target, observation, encounter, untouched


def test_merge_moves_references_and_retires_the_source(fhir):
    source, target, observation, encounter, untouched = two_records_with_data(fhir)
    answer = post(fhir, "/Patient/$merge", parameters({"name": "source-patient", "valueReference": ref(source)},
                                                      {"name": "target-patient", "valueReference": ref(target)}))
    merged = result_of(answer)
    assert merged["id"] == target["id"]
    assert {"system": IPP, "value": "IPP-111", "use": "old"} in merged["identifier"]
    assert {"other": ref(source), "type": "replaces"} in merged["link"]
    for moved in (observation, encounter):
        current = fhir.get(f"/{moved['resourceType']}/{moved['id']}").json()
        assert current["subject"] == ref(target) and current["meta"]["versionId"] == "2"
    assert fhir.get(f"/Observation/{untouched['id']}").json()["meta"]["versionId"] == "1"
    retired = fhir.get(f"/Patient/{source['id']}").json()
    assert retired["active"] is False and "identifier" not in retired
    assert {"other": ref(target), "type": "replaced-by"} in retired["link"]
    # One person: both sources now share the target's golden record; the source's old one is gone.
    assert golden_of(retired) == golden_of(merged) == golden_of(target)
    assert fhir.get(f"/{golden_of(source)}").status_code == 410
    assert len(goldens(fhir)) == 1
    # The compartment of the target now holds the moved data.
    everything = fhir.get(f"/Patient/{target['id']}/Observation").json()
    assert {e["resource"]["id"] for e in everything["entry"]} == {observation["id"], untouched["id"]}
    # A conditional reference by the old IPP still finds exactly one record: the target.
    found = fhir.get("/Patient", params={"identifier": f"{IPP}|IPP-111"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [target["id"]]
    provenance = fhir.get("/Provenance", params={"target": f"Patient/{source['id']}"}).json()["entry"][0]["resource"]
    assert provenance["activity"]["coding"][0]["code"] == "merge"
    assert f"Observation/{observation['id']}/_history/2" in {t["reference"] for t in provenance["target"]}


def test_merge_by_identifiers_as_an_adt_a40_sends_it(fhir):
    source, target, observation, *_ = two_records_with_data(fhir)
    post(fhir, "/Patient/$merge", parameters(
        {"name": "source-patient-identifier", "valueIdentifier": {"system": IPP, "value": "IPP-111"}},
        {"name": "target-patient-identifier", "valueIdentifier": {"system": IPP, "value": "IPP-222"}}))
    assert fhir.get(f"/Observation/{observation['id']}").json()["subject"] == ref(target)


def test_preview_changes_nothing(fhir):
    source, target, observation, *_ = two_records_with_data(fhir)
    answer = post(fhir, "/Patient/$merge", parameters({"name": "source-patient", "valueReference": ref(source)},
                                                      {"name": "target-patient", "valueReference": ref(target)},
                                                      {"name": "preview", "valueBoolean": True}))
    assert "would move 2" in next(p for p in answer["parameter"] if p["name"] == "outcome")["resource"]["issue"][0][
        "diagnostics"]
    assert fhir.get(f"/Observation/{observation['id']}").json()["meta"]["versionId"] == "1"
    assert fhir.get(f"/Patient/{source['id']}").json()["meta"]["versionId"] == "1"


def test_merge_refuses_bad_requests(fhir):
    source, target, *_ = two_records_with_data(fhir)
    same = fhir.post("/Patient/$merge", json=parameters({"name": "source-patient", "valueReference": ref(source)},
                                                        {"name": "target-patient", "valueReference": ref(source)}))
    assert same.status_code == 422
    unknown = fhir.post("/Patient/$merge", json=parameters(
        {"name": "source-patient-identifier", "valueIdentifier": {"system": IPP, "value": "nobody"}},
        {"name": "target-patient", "valueReference": ref(target)}))
    assert unknown.status_code == 422 and "nobody" in unknown.text
    missing = fhir.post("/Patient/$merge", json=parameters({"name": "target-patient", "valueReference": ref(target)}))
    assert missing.status_code == 400
    post(fhir, "/Patient/$merge", parameters({"name": "source-patient", "valueReference": ref(source)},
                                             {"name": "target-patient", "valueReference": ref(target)}))
    again = fhir.post("/Patient/$merge", json=parameters({"name": "source-patient", "valueReference": ref(source)},
                                                         {"name": "target-patient", "valueReference": ref(target)}))
    assert again.status_code == 422 and "already merged" in again.text
    assert fhir.get("/Patient/$merge").status_code == 405
    golden = {"reference": golden_of(target)}
    on_golden = fhir.post("/Patient/$merge", json=parameters({"name": "source-patient", "valueReference": golden},
                                                             {"name": "target-patient", "valueReference": ref(target)}))
    assert on_golden.status_code == 422 and "Golden records" in on_golden.text


def test_unmerge_round_trip(fhir):
    source, target, observation, encounter, untouched = two_records_with_data(fhir)
    pair = ({"name": "source-patient", "valueReference": ref(source)},
            {"name": "target-patient", "valueReference": ref(target)})
    post(fhir, "/Patient/$merge", parameters(*pair))
    restored = result_of(post(fhir, "/Patient/$unmerge", parameters(*pair)))
    assert restored["id"] == source["id"] and restored["identifier"] == source["identifier"]
    assert restored["name"] == source["name"] and "active" not in restored
    assert not [link for link in restored["link"] if link["type"] == "replaced-by"]
    for moved in (observation, encounter):
        assert fhir.get(f"/{moved['resourceType']}/{moved['id']}").json()["subject"] == ref(source)
    assert fhir.get(f"/Observation/{untouched['id']}").json()["subject"] == ref(target)
    back = fhir.get(f"/Patient/{target['id']}").json()
    assert back["identifier"] == target["identifier"]
    assert not [link for link in back["link"] if link["type"] == "replaces"]
    assert golden_of(restored) != golden_of(back) and len(goldens(fhir)) == 2
    # Undone once: a second unmerge has nothing to undo.
    assert fhir.post("/Patient/$unmerge", json=parameters(*pair)).status_code == 422


def test_practitioner_merge_and_unmerge(fhir):
    a = create(fhir, {"resourceType": "Practitioner", "name": [{"family": "Roux", "given": ["Claire"]}],
                      "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810009999999"}]})
    b = create(fhir, {"resourceType": "Practitioner", "name": [{"family": "Leroux", "given": ["Claude"]}]})
    role = create(fhir, {"resourceType": "PractitionerRole", "practitioner": ref(a)})
    pair = ({"name": "source-practitioner", "valueReference": ref(a)},
            {"name": "target-practitioner", "valueReference": ref(b)})
    merged = result_of(post(fhir, "/Practitioner/$merge", parameters(*pair)))
    assert {"url": "urn:passerelle:mdm:replaces", "valueReference": ref(a)} in merged["extension"]
    assert fhir.get(f"/PractitionerRole/{role['id']}").json()["practitioner"] == ref(b)
    post(fhir, "/Practitioner/$unmerge", parameters(*pair))
    assert fhir.get(f"/PractitionerRole/{role['id']}").json()["practitioner"] == ref(a)
    assert fhir.get(f"/Practitioner/{a['id']}").json()["identifier"] == a["identifier"]
