"""ADT: admit, update, transfer, discharge, cancels, person updates, merge."""

from __future__ import annotations

import pytest

from mappers.hl7v2 import MappingError, parse, to_bundle

from .helpers import bundle_of, one, resources, sample


def request_of(bundle: dict, resource_type: str) -> dict:
    return next(e["request"] for e in bundle["entry"] if e["request"]["url"].split("?")[0].split("/")[0]
                == resource_type)


def test_a01_patient():
    patient = one(bundle_of("adt_a01.hl7"), "Patient")
    assert patient["identifier"][0]["system"] == "urn:passerelle:v2:authority:CHU-LYON"
    assert patient["identifier"][0]["value"] == "123456"
    assert patient["identifier"][1]["system"] == "urn:oid:1.2.250.1.213.1.4.8"  # INS-NIR
    assert patient["name"][0] == {"use": "official", "family": "DURAND", "given": ["Hélène", "Marie"],
                                  "prefix": ["Mme"]}
    assert patient["birthDate"] == "1984-05-12" and patient["gender"] == "female"
    assert patient["address"][0]["city"] == "Lyon"
    assert {"system": "email", "value": "helene.durand@example.org", "use": "home"} in patient["telecom"]  # PID-13
    assert {"system": "phone", "value": "0478000000", "use": "work"} in patient["telecom"]
    assert patient["maritalStatus"]["coding"][0]["code"] == "M"
    assert patient["extension"][0] == {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
                                       "valueString": "LEBLANC"}
    assert patient["contact"][0]["relationship"][0]["coding"][0]["code"] == "SPS"
    assert patient["generalPractitioner"][0]["display"] == "Dr Anne LEROY"
    assert patient["meta"]["source"] == "urn:passerelle:v2:source:HIS:CHU-LYON#MSG0001"


def test_a01_requests_update_the_patient_and_the_visit():
    bundle = bundle_of("adt_a01.hl7")
    assert bundle["type"] == "transaction"
    assert request_of(bundle, "Patient") == {
        "method": "PUT", "url": "Patient?identifier=urn:passerelle:v2:authority:CHU-LYON|123456"}
    assert request_of(bundle, "Encounter") == {
        "method": "PUT", "url": "Encounter?identifier=urn:passerelle:v2:authority:CHU-LYON|V0001"}
    practitioner = request_of(bundle, "Practitioner")
    assert practitioner["method"] == "POST" and practitioner["ifNoneExist"].startswith("identifier=urn:oid:")


def test_a01_encounter():
    bundle = bundle_of("adt_a01.hl7")
    patient_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    enc = one(bundle, "Encounter")
    assert enc["status"] == "in-progress"
    assert enc["class"]["code"] == "IMP"
    assert enc["subject"] == {"reference": patient_url}
    assert patient_url.startswith("urn:uuid:")
    assert enc["identifier"][0]["value"] == "V0001" and enc["identifier"][0]["type"]["coding"][0]["code"] == "VN"
    assert enc["participant"][0]["type"][0]["coding"][0]["code"] == "ATND"
    assert enc["participant"][0]["individual"]["display"] == "Dr Jean MARTIN"
    assert enc["location"][0]["status"] == "active" and enc["location"][0]["location"]["display"] == "CARDIO 101 1"
    assert enc["type"][0]["coding"][0]["code"] == "U"
    assert enc["reasonCode"][0]["text"] == "Douleur thoracique"  # PV2-3
    assert enc["period"] == {"start": "2024-03-01T10:00:00+00:00"}


def test_a01_clinical_segments():
    bundle = bundle_of("adt_a01.hl7")
    allergy = one(bundle, "AllergyIntolerance")
    assert allergy["code"]["coding"][0]["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert allergy["category"] == ["medication"] and allergy["criticality"] == "high"
    assert [m["text"] for m in allergy["reaction"][0]["manifestation"]] == ["Hives", "Swelling"]
    condition = one(bundle, "Condition")
    assert condition["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I21.9",
                                              "display": "Infarctus aigu du myocarde"}
    assert condition["recordedDate"] == "2024-03-01"
    condition_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    assert one(bundle, "Encounter")["diagnosis"] == [{"condition": {"reference": condition_url}}]
    procedure = one(bundle, "Procedure")
    assert procedure["code"]["coding"][0]["system"] == "urn:oid:1.2.250.1.213.2.5"  # CCAM
    coverage = one(bundle, "Coverage")
    assert coverage["payor"][0]["display"] == "MUTUELLE SANTE PLUS"
    assert coverage["identifier"][0]["value"] == "POL-778899"
    assert coverage["period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    weights = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "29463-7"]
    assert str(weights[0]["valueQuantity"]["value"]) == "72.50"  # written precision kept
    assert weights[0]["valueQuantity"]["system"] == "http://unitsofmeasure.org"


def test_a08_updates_the_patient():
    bundle = bundle_of("adt_a08.hl7")
    assert request_of(bundle, "Patient")["method"] == "PUT"
    assert one(bundle, "Patient")["name"][0]["family"] == "DURAND-MOREAU"
    enc = one(bundle, "Encounter")
    assert [loc["status"] for loc in enc["location"]] == ["active", "completed"]  # moved: PV1-6 is the prior bed


def test_a03_finishes_the_visit_and_only_names_the_patient():
    bundle = bundle_of("adt_a03.hl7")
    enc = one(bundle, "Encounter")
    assert enc["status"] == "finished"
    assert enc["period"]["end"] == "2024-03-05T15:30:00+00:00"
    # the IG's DischargeDisposition map has no v2 codes yet: the v2 code is kept, with its table
    assert enc["hospitalization"]["dischargeDisposition"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0112", "code": "01", "display": "Discharged home"}
    patient_request = request_of(bundle, "Patient")
    assert patient_request["method"] == "POST"
    assert patient_request["ifNoneExist"] == "identifier=urn:passerelle:v2:authority:CHU-LYON|123456"


def test_a11_and_a13_patch_the_visit_status():
    a11 = next(e for e in bundle_of("adt_a11.hl7")["entry"] if e["request"]["method"] == "PATCH")
    assert a11["request"]["url"] == "Encounter?identifier=urn:passerelle:v2:authority:CHU-LYON|V0001"
    ops = [{p["name"]: next(v for k, v in p.items() if k != "name") for p in op["part"]}
           for op in a11["resource"]["parameter"]]
    assert ops == [{"type": "replace", "path": "Encounter.status", "value": "cancelled"}]
    a13 = next(e for e in bundle_of("adt_a13.hl7")["entry"] if e["request"]["method"] == "PATCH")
    ops = [{p["name"]: next(v for k, v in p.items() if k != "name") for p in op["part"]}
           for op in a13["resource"]["parameter"]]
    assert ops == [{"type": "replace", "path": "Encounter.status", "value": "in-progress"},
                   {"type": "delete", "path": "Encounter.period.end"}]


def test_a40_calls_patient_merge():
    bundle = bundle_of("adt_a40.hl7")
    merge = next(e for e in bundle["entry"] if e["request"]["url"] == "Patient/$merge")
    assert merge["request"]["method"] == "POST"
    params = {p["name"]: p for p in merge["resource"]["parameter"]}
    assert params["source-patient-identifier"]["valueIdentifier"] == {
        "system": "urn:passerelle:v2:authority:CHU-LYON", "value": "654321"}
    assert params["target-patient-identifier"]["valueIdentifier"] == {
        "system": "urn:passerelle:v2:authority:CHU-LYON", "value": "123456"}
    patient_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert params["target-patient"]["valueReference"] == {"reference": patient_url}


def test_a40_without_mrg_identifier():
    raw = sample("adt_a40.hl7").replace(b"MRG|654321^^^CHU-LYON^PI", b"MRG|")
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.field, err.value.code) == ("MRG", 1, "101")


@pytest.mark.parametrize("event", ["A04", "A05", "A06", "A07", "A02", "A12"])
def test_other_visit_events_update_the_visit(event):
    raw = sample("adt_a01.hl7").replace(b"ADT^A01^ADT_A01", f"ADT^{event}^ADT_A01".encode()).replace(
        b"EVN|A01", f"EVN|{event}".encode())
    bundle = to_bundle(parse(raw))
    assert request_of(bundle, "Encounter")["method"] == "PUT"
    status = one(bundle, "Encounter")["status"]
    assert status == {"A04": "planned", "A05": "planned"}.get(event, "in-progress")


@pytest.mark.parametrize("event", ["A28", "A31"])
def test_person_events_write_no_visit(event):
    raw = sample("adt_a08.hl7").replace(b"ADT^A08^ADT_A01", f"ADT^{event}^ADT_A05".encode())
    bundle = to_bundle(parse(raw))
    assert resources(bundle, "Encounter") == []
    assert request_of(bundle, "Patient")["method"] == "PUT"


def test_a03_without_visit_number_names_pv1_19():
    raw = sample("adt_a03.hl7").replace(b"V0001^^^CHU-LYON^VN", b"")
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    e = err.value
    assert (e.segment, e.sequence, e.field, e.code) == ("PV1", 1, 19, "101")


def test_missing_pid():
    raw = b"\r".join(s for s in sample("adt_a01.hl7").split(b"\r") if not s.startswith(b"PID"))
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.code) == ("PID", "100")


def test_bad_birth_date_names_pid_7():
    raw = sample("adt_a01.hl7").replace(b"|19840512|", b"|19841305|")
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.field, err.value.code) == ("PID", 7, "102")
    assert "19841305" in err.value.text


@pytest.mark.parametrize("msh9, code, component", [("ADT^A99", "201", 2), ("XYZ^A01", "200", 1)])
def test_unsupported_message_or_event(msh9, code, component):
    raw = sample("adt_a01.hl7").replace(b"ADT^A01^ADT_A01", msh9.encode())
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.field, err.value.component, err.value.code) == ("MSH", 9, component, code)


def test_same_message_same_bundle_and_other_message_other_ids():
    import uuid
    assert bundle_of("adt_a01.hl7") == bundle_of("adt_a01.hl7")
    for entry in bundle_of("adt_a01.hl7")["entry"]:  # RFC 4122 name-based (SHA-1) ids
        assert entry["fullUrl"].startswith("urn:uuid:") and uuid.UUID(entry["fullUrl"][9:]).version == 5
    other = to_bundle(parse(sample("adt_a01.hl7").replace(b"|MSG0001|", b"|MSG0099|")))
    assert {e["fullUrl"] for e in other["entry"]}.isdisjoint(e["fullUrl"] for e in bundle_of("adt_a01.hl7")["entry"])


def test_provenance_names_the_source_and_every_resource():
    bundle = bundle_of("adt_a01.hl7")
    prov = bundle["entry"][-1]
    assert prov["request"] == {"method": "POST", "url": "Provenance", "ifNoneExist":
                               "entity:identifier=urn:passerelle:v2:source:HIS:CHU-LYON|MSG0001"}
    res = prov["resource"]
    targets = {t["reference"] for t in res["target"]}
    assert targets == {e["fullUrl"] for e in bundle["entry"][:-1]}
    assert res["recorded"] == "2024-03-01T10:15:00+00:00"
    assert res["activity"]["coding"][0]["code"] == "A01"
    assert res["agent"][0]["who"]["display"] == "HIS" and res["agent"][0]["onBehalfOf"]["display"] == "CHU-LYON"
    assert res["agent"][1]["who"]["display"] == "Luc BERNARD"  # EVN-5 operator
    assert res["entity"][0]["what"]["identifier"]["value"] == "MSG0001"


def test_shared_adt_samples_map():
    from .helpers import SHARED
    from mappers.hl7v2 import split_batch
    mapped = 0
    for path in [*sorted((SHARED / "python-hl7").glob("samples__sample_file*.hl7")),
                 SHARED / "simple-hl7" / "adt.hl7", SHARED / "hl7-standard" / "message.hl7"]:
        try:
            messages = split_batch(path.read_bytes())
        except Exception:
            continue
        for raw in messages:
            bundle = to_bundle(parse(raw))
            assert one(bundle, "Patient")["identifier"]
            mapped += 1
    assert mapped >= 8


def test_message_time_from_evn_when_msh7_is_empty_else_an_error():
    raw = sample("adt_a01.hl7").replace(b"|COORD|20240301101500|", b"|COORD||")
    prov = one(to_bundle(parse(raw)), "Provenance")
    assert prov["recorded"] == "2024-03-01T10:15:00+00:00"  # EVN-2
    without_evn = b"\r".join(s for s in raw.split(b"\r") if not s.startswith(b"EVN"))
    with pytest.raises(MappingError) as err:
        to_bundle(parse(without_evn))
    assert (err.value.segment, err.value.field, err.value.code) == ("MSH", 7, "101")


def test_coverage_without_payer_names_in1_3():
    raw = sample("adt_a01.hl7").replace(b"|MUT001|MUTUELLE SANTE PLUS|", b"|||")
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.field, err.value.code) == ("IN1", 3, "101")
