"""Search results: the searchset Bundle, _include/_revinclude, _sort, _count, _summary,
_elements, _total, and lenient/strict handling (R4 search.html §3.1.1.5-6)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

LOINC = "http://loinc.org"


def load(fhir, *resources: dict) -> None:
    entries = [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for r in resources]
    response = fhir.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert response.status_code == 200, response.text


def get(fhir, path: str, **params) -> dict:
    response = fhir.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_mode(bundle: dict, mode: str) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])
            if e["search"]["mode"] == mode]


def links(bundle: dict) -> dict[str, str]:
    return {link["relation"]: link["url"] for link in bundle.get("link", [])}


def clinic(fhir) -> None:
    """Patients p1 (of Organization/org; o2, o4) and p2 (o1, o3); a Provenance on o1."""
    load(fhir,
         {"resourceType": "Organization", "id": "org", "name": "Acme"},
         {"resourceType": "Patient", "id": "p1", "name": [{"family": "Martin"}], "gender": "female",
          "birthDate": "1950-01-01", "managingOrganization": {"reference": "Organization/org"},
          "photo": [{"contentType": "image/png"}]},
         {"resourceType": "Patient", "id": "p2", "name": [{"family": "Durand"}], "birthDate": "1960-01-01"},
         *({"resourceType": "Observation", "id": f"o{i}", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": f"{i}000-0"}]},
            "subject": {"reference": f"Patient/p{1 + i % 2}"}, "effectiveDateTime": f"2024-0{i}-01"}
           for i in range(1, 5)),
         {"resourceType": "Provenance", "id": "prov", "target": [{"reference": "Observation/o1"}],
          "recorded": "2024-01-01T00:00:00Z", "agent": [{"who": {"reference": "Organization/org"}}]})


def test_searchset_shape(fhir, server):
    clinic(fhir)
    bundle = get(fhir, "/Patient", name="martin")
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] == 1
    (entry,) = bundle["entry"]
    assert entry["fullUrl"] == f"{server.url}/fhir/Patient/p1"
    assert entry["search"] == {"mode": "match"}
    assert links(bundle)["self"] == f"{server.url}/fhir/Patient?name=martin"
    assert links(bundle)["first"] == f"{server.url}/fhir/Patient?name=martin"
    assert "next" not in links(bundle)
    empty = get(fhir, "/Patient", name="nobody")
    assert empty["total"] == 0 and empty["entry"] == []


def test_include_revinclude_and_iterate(fhir):
    clinic(fhir)
    bundle = get(fhir, "/Observation", code=f"{LOINC}|1000-0", _include="Observation:subject")
    assert by_mode(bundle, "match") == ["Observation/o1"]
    assert by_mode(bundle, "include") == ["Patient/p2"]
    assert bundle["total"] == 1  # includes are not counted
    bundle = get(fhir, "/Observation", code=f"{LOINC}|2000-0",
                 _include="Observation:subject", **{"_include:iterate": "Patient:organization"})
    assert sorted(by_mode(bundle, "include")) == ["Organization/org", "Patient/p1"]
    bundle = get(fhir, "/Patient", _id="p2", _revinclude="Observation:subject")
    assert sorted(by_mode(bundle, "include")) == ["Observation/o1", "Observation/o3"]
    bundle = get(fhir, "/Patient", _id="p2", _revinclude=["Observation:subject", "Provenance:target"])
    assert "Provenance/prov" not in by_mode(bundle, "include")  # it targets o1, not the patient
    bundle = get(fhir, "/Patient", _id="p2", _revinclude="Observation:subject",
                 **{"_revinclude:iterate": "Provenance:target"})
    assert "Provenance/prov" in by_mode(bundle, "include")


def test_sort_several_keys_and_descending(fhir):
    clinic(fhir)
    assert by_mode(get(fhir, "/Observation", _sort="date"), "match") == [f"Observation/o{i}" for i in (1, 2, 3, 4)]
    assert by_mode(get(fhir, "/Observation", _sort="-date"), "match") == [f"Observation/o{i}" for i in (4, 3, 2, 1)]
    # subject ascending (p1 before p2), then date descending within each subject.
    ordered = by_mode(get(fhir, "/Observation", _sort="subject,-date"), "match")
    assert ordered == ["Observation/o4", "Observation/o2", "Observation/o3", "Observation/o1"]
    assert by_mode(get(fhir, "/Patient", _sort="-birthdate"), "match") == ["Patient/p2", "Patient/p1"]
    assert by_mode(get(fhir, "/Patient", _sort="-_id"), "match") == ["Patient/p2", "Patient/p1"]


def test_count_and_total(fhir):
    clinic(fhir)
    bundle = get(fhir, "/Observation", _count="2")
    assert len(bundle["entry"]) == 2 and "next" in links(bundle)
    assert "total" not in bundle  # more pages follow: counting is only done when asked
    assert get(fhir, "/Observation", _count="10")["total"] == 4  # one page: the total is free
    assert "total" not in get(fhir, "/Observation", _count="2", _total="none")
    assert get(fhir, "/Observation", _count="2", _total="accurate")["total"] == 4
    assert get(fhir, "/Observation", _count="2", _total="estimate")["total"] >= 0  # planner's guess on PostgreSQL
    assert get(fhir, "/Observation", _count="2", _total="estimate", subject="Patient/p1")["total"] == 2
    zero = get(fhir, "/Observation", _count="0")
    assert zero["total"] == 4 and zero["entry"] == []
    assert fhir.get("/Observation", params={"_total": "maybe"}).status_code == 400


def test_summary_count_returns_the_total_only(fhir):
    clinic(fhir)
    bundle = get(fhir, "/Observation", _summary="count", subject="Patient/p1", _total="none")
    assert bundle["total"] == 2 and bundle["entry"] == []


def test_summary_and_elements_shape_matches_and_includes(fhir):
    clinic(fhir)
    bundle = get(fhir, "/Patient", _id="p1", _summary="true", _revinclude="Observation:subject")
    match = bundle["entry"][0]["resource"]
    assert "photo" not in match and match["gender"] == "female"
    assert match["meta"]["tag"][-1]["code"] == "SUBSETTED"
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert included and all(r["meta"]["tag"][-1]["code"] == "SUBSETTED" for r in included)

    bundle = get(fhir, "/Patient", _id="p1", _elements="gender")
    assert set(bundle["entry"][0]["resource"]) == {"resourceType", "id", "meta", "gender"}
    # Type-qualified names apply to their type only; an included type left unnamed stays whole.
    bundle = get(fhir, "/Observation", subject="Patient/p1", _elements="Observation.status",
                 _include="Observation:subject")
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation":
            assert set(resource) == {"resourceType", "id", "meta", "status"}
        else:
            assert "name" in resource and "SUBSETTED" not in str(resource["meta"])
    data = get(fhir, "/Patient", _id="p1", _summary="data")["entry"][0]["resource"]
    assert "photo" in data


def test_unknown_parameters_lenient_and_strict(fhir):
    clinic(fhir)
    bundle = get(fhir, "/Patient", name="martin", nonsense="1", _sort="nonsense")
    assert by_mode(bundle, "match") == ["Patient/p1"]
    outcome = next(e for e in bundle["entry"] if e["search"]["mode"] == "outcome")["resource"]
    assert outcome["resourceType"] == "OperationOutcome"
    assert {i["expression"][0] for i in outcome["issue"]} == {"nonsense", "_sort"}
    assert all(i["severity"] == "warning" for i in outcome["issue"])
    assert bundle["total"] == 1  # the outcome is not a match
    strict = fhir.get("/Patient", params={"name": "martin", "nonsense": "1"}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["expression"] == ["nonsense"]
    lenient = fhir.get("/Patient", params={"nonsense": "1"}, headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200


def test_post_search_combines_url_and_form(fhir, server):
    clinic(fhir)
    response = fhir.post("/Observation/_search?subject=Patient/p1", data={"_sort": "-date", "_count": "1"},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    bundle = response.json()
    assert by_mode(bundle, "match") == ["Observation/o4"] and bundle["total"] == 2
    # The links are GETs on the type, with every parameter, so that a client can follow them.
    next_url = links(bundle)["next"]
    assert urlsplit(next_url).path == "/fhir/Observation"
    assert parse_qs(urlsplit(next_url).query)["subject"] == ["Patient/p1"]
    assert by_mode(fhir.get(next_url).json(), "match") == ["Observation/o2"]
    wrong = fhir.post("/Observation/_search", json={"subject": "x"})
    assert wrong.status_code == 415
