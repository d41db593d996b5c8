"""Patient/$match and Practitioner/$match over HTTP."""

from __future__ import annotations

from .helpers import INS, create, golden_of, parameters, patient

MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"


def match(fhir, resource: dict, *extra) -> dict:
    response = fhir.post(f"/{resource['resourceType']}/$match",
                         json=parameters({"name": "resource", "resource": resource}, *extra))
    assert response.status_code == 200, response.text
    return response.json()


def grades(bundle: dict) -> list[tuple[str, str, float]]:
    return [(e["fullUrl"].split("/fhir/")[1], e["search"]["extension"][0]["valueCode"], e["search"]["score"])
            for e in bundle.get("entry", [])]


def test_match_ranks_golden_records_with_grades(fhir):
    helene = create(fhir, patient(identifier=[{"system": INS, "value": "280037511200151"}]))
    create(fhir, patient(family="Martin", given="Jean", birth="1955-11-30", gender="male"))
    probable = create(fhir, patient(given="Helena", birth="1980-04-03"))  # another golden, doubtful
    result = match(fhir, patient(family="DUPRE", given="Helene"))
    assert result["type"] == "searchset"
    found = grades(result)
    assert found[0][0] == golden_of(helene) and found[0][1] == "certain" and found[0][2] > 0.99
    assert (golden_of(probable), ) in {(f[0],) for f in found}
    assert all(f[1] in ("certain", "probable", "possible") for f in found)
    assert [f[2] for f in found] == sorted((f[2] for f in found), reverse=True)
    assert all(e["search"]["mode"] == "match" for e in result["entry"])


def test_only_certain_matches_and_count(fhir):
    create(fhir, patient())
    create(fhir, patient(given="Helena", birth="1980-04-03"))
    certain = match(fhir, patient(), {"name": "onlyCertainMatches", "valueBoolean": True})
    assert [g[1] for g in grades(certain)] == ["certain"]
    one = match(fhir, patient(birth="1980-04-03"), {"name": "count", "valueInteger": 1})
    assert len(one["entry"]) == 1


def test_match_with_a_valid_ins_outweighs_a_name_typo(fhir):
    # 2A (Corse-du-Sud) counts as 19 in the key computation.
    ins = {"system": INS, "value": "185022A00400133"}
    source = create(fhir, patient(family="Santoni", given="Paul", gender="male", birth="1985-02-10",
                                  identifier=[ins]))
    found = grades(match(fhir, patient(family="Santonni", given="Paolo", gender="male", birth="1985-10-02",
                                       identifier=[ins])))
    assert found[0][:2] == (golden_of(source), "certain")


def test_no_match_is_an_empty_searchset(fhir):
    create(fhir, patient())
    result = match(fhir, patient(family="Nguyen", given="Minh", birth="2001-07-14", gender="male"))
    assert result["total"] == 0 and result.get("entry", []) == []


def test_match_needs_a_resource_of_the_type(fhir):
    response = fhir.post("/Patient/$match", json=parameters(
        {"name": "resource", "resource": {"resourceType": "Practitioner"}}))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["resource"]
    bad_count = fhir.post("/Patient/$match", json=parameters(
        {"name": "resource", "resource": patient()}, {"name": "count", "valueInteger": 0}))
    assert bad_count.status_code == 400


def test_practitioner_match_on_rpps(fhir):
    rpps = {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810001234567"}
    create(fhir, {"resourceType": "Practitioner", "identifier": [rpps], "name": [{"family": "Lefèvre",
                                                                                  "given": ["Anne"]}]})
    found = grades(match(fhir, {"resourceType": "Practitioner", "identifier": [rpps],
                                "name": [{"family": "Lefevre", "given": ["A"]}]}))
    assert len(found) == 1 and found[0][1] == "certain"
