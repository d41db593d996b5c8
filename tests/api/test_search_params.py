"""Search by each parameter type, end to end through HTTP (R4 search.html §3.1.1.4-5)."""

from __future__ import annotations

import pytest

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MRN = "urn:oid:1.2.250.1.71.4.2.1"


def load(fhir, *resources: dict) -> None:
    """PUT each resource under its own id, in one transaction."""
    entries = [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for r in resources]
    response = fhir.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert response.status_code == 200, response.text


def ids(fhir, path: str, **params) -> list[str]:
    response = fhir.get(path, params=params)
    assert response.status_code == 200, response.text
    return sorted(e["resource"]["id"] for e in response.json()["entry"] if e["search"]["mode"] == "match")


def patient(pid: str, **fields) -> dict:
    return {"resourceType": "Patient", "id": pid, **fields}


def observation(oid: str, **fields) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final", "code": {"text": "x"}, **fields}


def test_string_is_accent_and_case_insensitive_starts_with(fhir):
    load(fhir, patient("p1", name=[{"family": "HELENE"}]), patient("p2", name=[{"family": "Hélène-Marie"}]),
         patient("p3", name=[{"family": "Dupont", "given": ["Hélène"]}]), patient("p4", name=[{"family": "Lenoir"}]))
    assert ids(fhir, "/Patient", name="Hélène") == ["p1", "p2", "p3"]
    assert ids(fhir, "/Patient", name="helene") == ["p1", "p2", "p3"]
    assert ids(fhir, "/Patient", family="HEL") == ["p1", "p2"]
    assert ids(fhir, "/Patient", name="lene") == []  # starts with, not contains


def test_string_exact_and_contains(fhir):
    load(fhir, patient("p1", name=[{"family": "HELENE"}]), patient("p2", name=[{"family": "Hélène"}]),
         patient("p3", name=[{"family": "Marlène"}]))
    assert ids(fhir, "/Patient", **{"family:exact": "Hélène"}) == ["p2"]
    assert ids(fhir, "/Patient", **{"family:exact": "hélène"}) == []
    assert ids(fhir, "/Patient", **{"family:contains": "LENE"}) == ["p1", "p2", "p3"]
    assert ids(fhir, "/Patient", **{"family:contains": "rl"}) == ["p3"]


def test_token_system_and_code_forms(fhir):
    load(fhir,
         observation("o1", code={"coding": [{"system": LOINC, "code": "1234-5"}]}),
         observation("o2", code={"coding": [{"code": "1234-5"}]}),
         observation("o3", code={"coding": [{"system": "http://other", "code": "1234-5"}]}),
         observation("o4", code={"coding": [{"system": LOINC, "code": "9999-9"}]}))
    assert ids(fhir, "/Observation", code=f"{LOINC}|1234-5") == ["o1"]
    assert ids(fhir, "/Observation", code="1234-5") == ["o1", "o2", "o3"]
    assert ids(fhir, "/Observation", code="|1234-5") == ["o2"]  # no system at all
    assert ids(fhir, "/Observation", code=f"{LOINC}|") == ["o1", "o4"]
    assert ids(fhir, "/Observation", code=f"{LOINC}|1234-5,{LOINC}|9999-9") == ["o1", "o4"]  # OR
    assert ids(fhir, "/Observation", **{"code:not": f"{LOINC}|1234-5"}) == ["o2", "o3", "o4"]


def test_token_identifier_and_boolean(fhir):
    load(fhir, patient("p1", identifier=[{"system": MRN, "value": "A-1"}], active=True),
         patient("p2", identifier=[{"system": "urn:other", "value": "A-1"}], active=False), patient("p3"))
    assert ids(fhir, "/Patient", identifier=f"{MRN}|A-1") == ["p1"]
    assert ids(fhir, "/Patient", identifier="A-1") == ["p1", "p2"]
    assert ids(fhir, "/Patient", active="true") == ["p1"]
    assert ids(fhir, "/Patient", active="false") == ["p2"]
    assert ids(fhir, "/Patient", **{"active:missing": "true"}) == ["p3"]


def test_date_prefixes_and_precision(fhir):
    load(fhir, patient("jan1", birthDate="2024-01-01"), patient("dec31", birthDate="2024-12-31"),
         patient("y2023", birthDate="2023-12-31"), patient("y2025", birthDate="2025-01-01"),
         patient("month", birthDate="2024-06"))
    assert ids(fhir, "/Patient", birthdate="2024") == ["dec31", "jan1", "month"]  # the whole year
    assert ids(fhir, "/Patient", birthdate="2024-12") == ["dec31"]
    assert ids(fhir, "/Patient", birthdate="2024-06-15") == []  # "2024-06" is wider than one day
    assert ids(fhir, "/Patient", birthdate="ge2024-12-31") == ["dec31", "y2025"]
    assert ids(fhir, "/Patient", birthdate="lt2024") == ["y2023"]
    assert ids(fhir, "/Patient", birthdate="gt2024") == ["y2025"]
    assert ids(fhir, "/Patient", birthdate=["ge2024-01-01", "le2024-06-30"]) == ["jan1", "month"]  # AND
    assert ids(fhir, "/Patient", birthdate="ne2024") == ["y2023", "y2025"]
    assert fhir.get("/Patient", params={"birthdate": "2024-13"}).status_code == 400


def test_datetime_and_period_with_time_zone(fhir):
    load(fhir, observation("o1", effectiveDateTime="2024-03-01T23:30:00+01:00"),
         observation("o2", effectivePeriod={"start": "2024-03-02T08:00:00Z", "end": "2024-03-04T08:00:00Z"}))
    assert ids(fhir, "/Observation", date="2024-03-01") == ["o1"]  # 22:30 UTC that day
    assert ids(fhir, "/Observation", date="2024-03-03") == []  # the period is wider than that day
    assert ids(fhir, "/Observation", date="ge2024-03-03") == ["o2"]  # ...but overlaps it
    assert ids(fhir, "/Observation", date="2024-03") == ["o1", "o2"]


def test_number(fhir):
    def risk(rid: str, probability: float) -> dict:
        return {"resourceType": "RiskAssessment", "id": rid, "status": "final", "subject": {"reference": "Patient/x"},
                "prediction": [{"probabilityDecimal": probability}]}

    load(fhir, risk("r1", 0.2), risk("r2", 0.5), risk("r3", 0.8))
    assert ids(fhir, "/RiskAssessment", probability="0.5") == ["r2"]
    assert ids(fhir, "/RiskAssessment", probability="gt0.5") == ["r3"]
    assert ids(fhir, "/RiskAssessment", probability="le0.5") == ["r1", "r2"]
    assert ids(fhir, "/RiskAssessment", probability="0.2,0.8") == ["r1", "r3"]


def test_quantity(fhir):
    def weight(oid: str, value: float, code: str, unit: str) -> dict:
        return observation(oid, valueQuantity={"value": value, "unit": unit, "system": UCUM, "code": code})

    load(fhir, weight("o1", 5.4, "mg", "mg"), weight("o2", 7, "mg", "milligram"), weight("o3", 5.4, "g", "g"))
    assert ids(fhir, "/Observation", **{"value-quantity": f"5.4|{UCUM}|mg"}) == ["o1"]
    assert ids(fhir, "/Observation", **{"value-quantity": "5.4||mg"}) == ["o1"]
    assert ids(fhir, "/Observation", **{"value-quantity": "5.4"}) == ["o1", "o3"]
    assert ids(fhir, "/Observation", **{"value-quantity": f"gt6|{UCUM}|mg"}) == ["o2"]


def test_reference_relative_typed_and_id(fhir):
    load(fhir, patient("p1"), patient("p2"), {"resourceType": "Group", "id": "p1", "type": "person", "actual": True},
         observation("o1", subject={"reference": "Patient/p1"}), observation("o2", subject={"reference": "Patient/p2"}),
         observation("o3", subject={"reference": "Group/p1"}))
    assert ids(fhir, "/Observation", subject="Patient/p1") == ["o1"]
    assert ids(fhir, "/Observation", subject="p1") == ["o1", "o3"]
    assert ids(fhir, "/Observation", **{"subject:Patient": "p1"}) == ["o1"]
    assert ids(fhir, "/Observation", patient="p2") == ["o2"]
    assert ids(fhir, "/Observation", subject="Patient/p1,Patient/p2") == ["o1", "o2"]


def test_absolute_reference_to_our_base_is_local(fhir, server):
    base = f"{server.url}/fhir"
    load(fhir, patient("p1"), observation("rel", subject={"reference": "Patient/p1"}),
         observation("abs", subject={"reference": f"{base}/Patient/p1"}),
         observation("other", subject={"reference": "http://elsewhere.example/fhir/Patient/p1"}))
    # Our own base: the same patient, however the reference was written.
    assert ids(fhir, "/Observation", subject=f"{base}/Patient/p1") == ["abs", "rel"]
    # Another server's URL matches only that URL, and never the local Patient/p1.
    assert ids(fhir, "/Observation", subject="http://elsewhere.example/fhir/Patient/p1") == ["other"]


def test_stored_absolute_reference_to_our_base_found_by_relative_search(fhir, server):
    load(fhir, patient("p1"), observation("abs", subject={"reference": f"{server.url}/fhir/Patient/p1"}))
    assert ids(fhir, "/Observation", subject="Patient/p1") == ["abs"]
    # stored relative: our own base is local (R4 3.1.1.4.10)
    assert fhir.get("/Observation/abs").json()["subject"]["reference"] == "Patient/p1"
    included = fhir.get("/Observation", params={"_id": "abs", "_include": "Observation:subject"}).json()
    assert [e["resource"]["id"] for e in included["entry"]] == ["abs", "p1"]


def test_chained_two_levels_and_has(fhir):
    load(fhir,
         {"resourceType": "Organization", "id": "acme", "name": "Acme Clinic"},
         {"resourceType": "Organization", "id": "beta", "name": "Beta"},
         patient("p1", name=[{"family": "Martin"}], managingOrganization={"reference": "Organization/acme"}),
         patient("p2", name=[{"family": "Durand"}], managingOrganization={"reference": "Organization/beta"}),
         observation("o1", subject={"reference": "Patient/p1"}, code={"coding": [{"system": LOINC, "code": "1-1"}]}),
         observation("o2", subject={"reference": "Patient/p2"}, code={"coding": [{"system": LOINC, "code": "2-2"}]}))
    assert ids(fhir, "/Observation", **{"subject:Patient.name": "martin"}) == ["o1"]
    assert ids(fhir, "/Observation", **{"subject:Patient.organization.name": "acme"}) == ["o1"]
    assert ids(fhir, "/Observation", **{"patient.organization.name": "beta"}) == ["o2"]
    assert ids(fhir, "/Patient", **{"_has:Observation:subject:code": f"{LOINC}|2-2"}) == ["p2"]
    assert ids(fhir, "/Patient", **{"_has:Observation:patient:_id": "o1"}) == ["p1"]


def test_common_parameters_id_and_last_updated(fhir):
    load(fhir, patient("p1"), patient("p2"))
    assert ids(fhir, "/Patient", _id="p1,p3") == ["p1"]
    updated = fhir.get("/Patient/p2").json()["meta"]["lastUpdated"]
    assert ids(fhir, "/Patient", _lastUpdated=f"ge{updated}") == ["p1", "p2"]  # one transaction, one instant
    assert ids(fhir, "/Patient", _lastUpdated="lt2000") == []


@pytest.mark.parametrize("value", ["2024-13-01", "gtx", "abc"])
def test_malformed_values_are_400(fhir, value):
    response = fhir.get("/Patient", params={"birthdate": value})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
