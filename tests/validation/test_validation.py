"""validate_resource: R4 structural validation, issue locations, R4-only and R4B-changed types."""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.errors import Unprocessable
from server.validation import MAX_ISSUES, fhirpath, issues_from_pydantic, known_resource_types, validate_resource

ROOT = Path(__file__).resolve().parents[2]

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {"lastUpdated": "2024-05-01T10:00:00.123+02:00", "profile": ["http://example.org/p"]},
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">John</div>'},
    "extension": [{"url": "http://example.org/ext", "valueQuantity": {"value": Decimal("1.50"), "unit": "kg"}}],
    "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}],
    "active": True,
    "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", None, "James"],
              "_given": [None, {"extension": [{"url": "http://example.org/x", "valueString": "J."}]}, None]}],
    "gender": "male",
    "_birthDate": {"extension": [{"url": "http://example.org/t", "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
    "birthDate": "1974-12-25",
    "deceasedBoolean": False,
    "multipleBirthInteger": 2,
    "contact": [{"relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]}],
                 "name": {"family": "du Marché"}}],
    "contained": [{"resourceType": "Organization", "id": "org", "name": "Clinic"}],
    "managingOrganization": {"reference": "#org"},
}


def problems(resource: dict) -> list[dict]:
    try:
        validate_resource(resource)
    except Unprocessable as e:
        return e.outcome()["issue"]
    return []


def where(resource: dict) -> list[str]:
    return [i["expression"][0] for i in problems(resource)]


def patient(**changes) -> dict:
    p = copy.deepcopy(PATIENT)
    for key, value in changes.items():
        if value is ...:
            del p[key]
        else:
            p[key] = value
    return p


def test_a_full_patient_is_valid():
    assert problems(PATIENT) == []


def test_known_resource_types_are_r4():
    types = known_resource_types()
    assert len(types) == 146
    assert {"Patient", "Observation", "MedicinalProduct", "EffectEvidenceSynthesis", "SubstancePolymer"} <= types
    # abstract types, a logical model, and R4B-only types are not accepted
    assert not types & {"Resource", "DomainResource", "MetadataResource", "SubscriptionStatus", "Citation", "Ingredient"}


@pytest.mark.parametrize("resource, expression, says", [
    (patient(foo=1), "Patient.foo", "Unknown element 'foo'"),
    (patient(name=[{"family": "x", "nickname": "y"}]), "Patient.name[0].nickname", "Unknown element"),
    (patient(active="true"), "Patient.active", "JSON boolean"),
    (patient(multipleBirthInteger="2"), "Patient.multipleBirthInteger", "JSON integer"),
    (patient(multipleBirthInteger=Decimal("2.0")), "Patient.multipleBirthInteger", "JSON integer"),
    (patient(multipleBirthInteger=2**31), "Patient.multipleBirthInteger", "not a valid integer"),
    (patient(name=[{"given": [""]}]), "Patient.name[0].given[0]", "empty string"),
    (patient(name=[{"given": [7]}]), "Patient.name[0].given[0]", "JSON string"),
    (patient(birthDate="1974-13-01"), "Patient.birthDate", "not a valid date"),
    (patient(birthDate="2023-02-29"), "Patient.birthDate", "real calendar date"),
    (patient(deceasedDateTime="2020-01-01T10:00:00"), "Patient.deceasedDateTime", "Only one of"),
    (patient(deceasedBoolean=..., deceasedDateTime="2020-01-01T10:00:00"), "Patient.deceasedDateTime", "not a valid dateTime"),
    (patient(id="x" * 65), "Patient.id", "not a valid id"),
    (patient(id="a_b"), "Patient.id", "not a valid id"),
    (patient(gender=["male"]), "Patient.gender", "must not be an array"),
    (patient(name={"family": "x"}), "Patient.name", "must be a JSON array"),
    (patient(name=[]), "Patient.name", "empty array"),
    (patient(name=[{}]), "Patient.name[0]", "no value and no children"),
    (patient(gender=None), "Patient.gender", "Null value"),
    (patient(name=[{"given": ["a", None]}]), "Patient.name[0].given[1]", "Null value"),
    (patient(name=[{"given": ["a", "b"], "_given": [{"extension": [{"url": "http://x", "valueCode": "c"}]}]}]),
     "Patient.name[0].given", "same length"),
    (patient(gender=..., _gender={"id": "g"}), "Patient.gender", "ele-1"),
    (patient(_active=[{"id": "g"}]), "Patient.active", "must not be an array"),
    (patient(name=[{"_given": [None]}]), "Patient.name[0].given[0]", "no value beside it"),
    (patient(text={"status": "generated", "div": "plain text"}), "Patient.text.div", "<div>"),
    (patient(text={"status": "generated"}), "Patient.text.div", "Missing required element 'div'"),
    (patient(extension=[{"valueString": "x"}]), "Patient.extension[0].url", "Missing required element 'url'"),
    (patient(extension=[{"url": "http://x", "valueString": "a", "extension": [{"url": "http://y", "valueCode": "b"}]}]),
     "Patient.extension[0]", "ext-1"),
    (patient(extension=[{"url": "http://x", "valueQuantity": {"value": float("nan")}}]),
     "Patient.extension[0].valueQuantity.value", "JSON number"),
    (patient(photo=[{"data": "QU JD"}]), "Patient.photo[0].data", "not a valid base64Binary"),
    (patient(contained=[{"resourceType": "Organization", "name": 5}]), "Patient.contained[0].name", "JSON string"),
    (patient(contained=[{"resourceType": "Citation"}]), "Patient.contained[0]", "Unknown resource type 'Citation'"),
    (patient(contained=[{"name": "x"}]), "Patient.contained[0]", "Expected a resource"),
    (patient(resourceType="Citation"), "Resource", "not an R4 resource type"),
    (patient(resourceType=...), "Resource", "Missing resourceType"),
    (patient(fhir_comments=["x"]), "Patient.fhir_comments", "Unknown element"),
])
def test_invalid_patients_name_the_faulty_element(resource, expression, says):
    issues = problems(resource)
    assert any(i["expression"] == [expression] and says in i["diagnostics"] for i in issues), issues


def test_primitive_extension_siblings():
    assert problems(patient(gender="male", _gender={"id": "g"})) == []  # an id beside a value is fine
    assert problems(patient(name=[{"given": ["a", None], "_given": [{"id": "1"}, {"id": "2", "extension": [
        {"url": "http://x", "valueBoolean": True}]}]}])) == []


def test_hostile_nesting_gets_an_answer():
    item = {"linkId": "x", "type": "group"}
    root = {"resourceType": "Questionnaire", "status": "draft", "item": [item]}
    for _ in range(2000):
        child = {"linkId": "x", "type": "group"}
        item["item"] = [child]
        item = child
    issues = problems(root)
    assert issues and issues[-1]["code"] == "too-costly"


def test_every_problem_is_reported_with_its_own_issue():
    bad = patient(active="yes", birthDate="soon", foo=1, name=[{"given": [""]}, {"period": {"start": "x"}}])
    outcome_issues = problems(bad)
    assert [i["expression"][0] for i in outcome_issues] == [
        "Patient.active", "Patient.name[0].given[0]", "Patient.name[1].period.start", "Patient.birthDate", "Patient.foo",
    ]
    assert {i["code"] for i in outcome_issues} == {"value", "structure"}
    assert all(i["severity"] == "error" for i in outcome_issues)


def test_too_many_problems_are_capped():
    bad = patient(identifier=[{"value": 1} for _ in range(MAX_ISSUES + 20)])
    issues = problems(bad)
    assert len(issues) == MAX_ISSUES + 1
    assert issues[-1]["severity"] == "information" and "20 more" in issues[-1]["diagnostics"]


def test_required_elements_and_primitive_extensions():
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"},
           "valueQuantity": {"value": Decimal("72.5"), "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
           "referenceRange": [{"low": {"value": 60, "unit": "kg"}}]}
    assert problems(obs) == []
    no_status = {k: v for k, v in obs.items() if k != "status"}
    assert where(no_status) == ["Observation.status"]
    # a required primitive may be present as an extension only (extensibility.html#Special-Case)
    assert problems({**no_status, "_status": {"extension": [{"url": "http://x", "valueCode": "unknown"}]}}) == []
    assert where({k: v for k, v in obs.items() if k != "code"}) == ["Observation.code"]
    # referenceRange.low is a SimpleQuantity: no comparator
    ranged = copy.deepcopy(obs)
    ranged["referenceRange"][0]["low"]["comparator"] = "<"
    assert where(ranged) == ["Observation.referenceRange[0].low.comparator"]
    # a choice of types: at most one variant
    assert where({**obs, "valueString": "72.5 kg"}) == ["Observation.valueString"]


def test_embedded_resources_are_validated_in_place():
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "resource": PATIENT,
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Patient", "birthDate": "1-1-2000"}, "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Parameters", "parameter": [{"name": "p", "resource": {"resourceType": "Patient", "x": 1}}]},
         "request": {"method": "POST", "url": "Parameters"}},
    ]}
    assert where(bundle) == [
        "Bundle.entry[1].resource.birthDate",
        "Bundle.entry[2].resource.parameter[0].resource.x",
    ]


def test_recursive_backbone_elements():
    q = {"resourceType": "Questionnaire", "status": "active", "item": [
        {"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "string", "item": [{"type": "string"}]}]}]}
    assert where(q) == ["Questionnaire.item[0].item[0].item[0].linkId"]


def test_decimals_from_json_validate():
    raw = '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50e2}}'
    obs = json.loads(raw, parse_float=Decimal)
    assert isinstance(obs["valueQuantity"]["value"], Decimal)
    assert problems(obs) == []
    assert problems(json.loads(raw)) == []  # plain floats too
    assert where({**obs, "valueQuantity": {"value": "150"}}) == ["Observation.valueQuantity.value"]
    assert where({**obs, "valueQuantity": {"value": True}}) == ["Observation.valueQuantity.value"]


# ---------------------------------------------------------------- R4-only and R4B-changed types

MEDICINAL_PRODUCT = {
    "resourceType": "MedicinalProduct", "id": "example",
    "identifier": [{"system": "http://ema.europa.eu/example/MPID", "value": "{mpid}"}],
    "name": [{"productName": "Equilidem 2.5 mg film-coated tablets",
              "countryLanguage": [{"country": {"coding": [{"code": "EU"}]}, "language": {"coding": [{"code": "EN"}]}}]}],
    "marketingStatus": [{"country": {"text": "EU"}, "status": {"text": "active"}, "dateRange": {"start": "2020-01-01"}}],
}


def test_an_r4_only_type_is_validated_per_r4():
    assert problems(MEDICINAL_PRODUCT) == []
    bad = copy.deepcopy(MEDICINAL_PRODUCT)
    bad["name"][0]["productName"] = 5
    del bad["marketingStatus"][0]["dateRange"]  # 1..1 in R4 (0..1 in R4B)
    bad["name"][0]["shortName"] = "x"
    assert where(bad) == [
        "MedicinalProduct.name[0].productName", "MedicinalProduct.name[0].shortName",
        "MedicinalProduct.marketingStatus[0].dateRange",
    ]
    assert where({k: v for k, v in MEDICINAL_PRODUCT.items() if k != "name"}) == ["MedicinalProduct.name"]


EVIDENCE_VARIABLE_R4 = {
    "resourceType": "EvidenceVariable", "status": "draft", "name": "Smokers", "type": "dichotomous",
    "characteristic": [{
        "definitionCodeableConcept": {"text": "smoker"},
        "participantEffectivePeriod": {"start": "2020-01-01"},
        "timeFromStart": {"value": 2, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"},
    }],
}


def test_a_type_changed_in_r4b_is_validated_per_r4():
    assert problems(EVIDENCE_VARIABLE_R4) == []
    r4b_style = copy.deepcopy(EVIDENCE_VARIABLE_R4)
    del r4b_style["type"]
    r4b_style["handling"] = "boolean"  # R4B element
    r4b_style["characteristic"][0]["timeFromStart"] = {"description": "x"}  # a backbone in R4B, a Duration in R4
    assert where(r4b_style) == ["EvidenceVariable.characteristic[0].timeFromStart.description", "EvidenceVariable.handling"]
    no_characteristic = {k: v for k, v in EVIDENCE_VARIABLE_R4.items() if k != "characteristic"}
    assert where(no_characteristic) == ["EvidenceVariable.characteristic"]  # 1..* in R4, 0..* in R4B


def test_extension_value_types_are_r4s():
    # Meta is an R4 extension value type (dropped in R4B); CodeableReference is R4B only
    assert problems(patient(extension=[{"url": "http://x", "valueMeta": {"versionId": "1"}}])) == []
    assert where(patient(extension=[{"url": "http://x", "valueCodeableReference": {"concept": {"text": "x"}}}])) == [
        "Patient.extension[0].valueCodeableReference"]


def test_r4b_only_resource_types_are_unknown():
    for rtype in ("SubscriptionStatus", "Citation", "NutritionProduct"):
        assert "not an R4 resource type" in problems({"resourceType": rtype})[0]["diagnostics"]


# ---------------------------------------------------------------- pydantic locations, docs, speed


def test_pydantic_locations_translate_to_fhirpath():
    assert fhirpath("Patient", ("name", 0, "_given", 1)) == "Patient.name[0].given[1]"
    assert fhirpath("Patient", ()) == "Patient"
    from fhir.resources.R4B import get_fhir_model_class

    with pytest.raises(ValidationError) as err:
        get_fhir_model_class("Patient").model_validate({"resourceType": "Patient", "name": [{"given": [1]}], "foo": 1})
    issues = issues_from_pydantic(err.value, "Patient")
    assert [(i["expression"], i["code"]) for i in issues] == [
        (["Patient.name[0].given[0]"], "value"), (["Patient.foo"], "structure")]


def test_r4_r4b_doc_is_current():
    """docs/r4-r4b.md embeds the generator's output: regenerate it when fhir.resources changes."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import r4_r4b_diff

    generated = r4_r4b_diff.render(r4_r4b_diff.compute())
    assert generated in (ROOT / "docs" / "r4-r4b.md").read_text(), "run tools/r4_r4b_diff.py and update docs/r4-r4b.md"


def test_speed():
    small = {"resourceType": "Patient", "id": "p1", "active": True, "gender": "female", "birthDate": "1970-01-01",
             "name": [{"family": "Doe", "given": ["Jane"]}], "identifier": [{"system": "urn:oid:1.2.3", "value": "1"}]}
    validate_resource(small)  # compiles the shapes
    n, start = 2000, time.perf_counter()
    for _ in range(n):
        validate_resource(small)
    rate = n / (time.perf_counter() - start)
    assert rate > 5000, f"{rate:.0f} Patients/s"  # ~100,000/s measured; a loose floor against regressions


@pytest.mark.parametrize("resource, expression", [
    ({"resourceType": "Patient", "gender": "F"}, "Patient.gender"),
    ({"resourceType": "Location", "status": "bogus"}, "Location.status"),
    ({"resourceType": "Patient", "address": [{"use": "hom"}]}, "Patient.address[0].use"),
    ({"resourceType": "Observation", "status": "final", "code": {"text": "bp"},
      "component": [{"code": {"text": "sys"}, "valueQuantity": {"value": 1, "comparator": "~"}}]},
     "Observation.component[0].valueQuantity.comparator"),
])
def test_a_code_outside_its_required_binding_is_refused(resource, expression):
    found = problems(resource)
    assert [(p["code"], p["expression"]) for p in found] == [("code-invalid", [expression])]
    assert "is not a code allowed in" in found[0]["diagnostics"]


def test_codes_of_required_bindings_and_unlisted_value_sets_pass():
    validate_resource({"resourceType": "Patient", "gender": "unknown", "address": [{"use": "old"}]})
    # MIME types (BCP 13) cannot be listed: any contentType passes
    validate_resource({"resourceType": "DocumentReference", "status": "current",
                       "content": [{"attachment": {"contentType": "application/x-site-specific"}}]})
