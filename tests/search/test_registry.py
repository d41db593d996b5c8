"""The SearchParameter registry: the official R4 set, per-type splitting, runtime add/remove."""

from __future__ import annotations

import pytest

from server.errors import Unprocessable
from server.search.registry import SearchParamDef, SearchRegistry, split_union


@pytest.fixture
def registry() -> SearchRegistry:
    return SearchRegistry()  # a fresh copy: runtime adds must not leak into default()


def custom(**overrides) -> dict:
    sp = {
        "resourceType": "SearchParameter",
        "url": "http://passerelle.example/SearchParameter/patient-birthplace",
        "name": "birthplace",
        "status": "active",
        "code": "birthplace",
        "base": ["Patient"],
        "type": "string",
        "expression": "Patient.extension.where(url='http://hl7.org/fhir/StructureDefinition/patient-birthPlace').value",
    }
    sp.update(overrides)
    return {k: v for k, v in sp.items() if v is not None}


def test_default_is_loaded_once_and_knows_every_r4_resource_type():
    registry = SearchRegistry.default()
    assert SearchRegistry.default() is registry
    assert len(registry.resource_types) == 146
    assert {"Patient", "Observation", "Bundle", "Binary", "Parameters"} <= registry.resource_types
    assert "DomainResource" not in registry.resource_types and "Resource" not in registry.resource_types


def test_get_and_for_type(registry):
    birthdate = registry.get("Patient", "birthdate")
    assert isinstance(birthdate, SearchParamDef)
    assert (birthdate.type, birthdate.expression) == ("date", "Patient.birthDate")
    assert birthdate.url == "http://hl7.org/fhir/SearchParameter/individual-birthdate"
    assert set(birthdate.base) == {"Patient", "Person", "RelatedPerson"}
    assert "ge" in birthdate.comparator
    assert registry.get("Patient", "nope") is None
    assert registry.get("NotAType", "_id") is None
    assert registry.for_type("NotAType") == {}
    params = registry.for_type("Patient")
    assert {"name", "family", "gender", "identifier", "_id", "_lastUpdated", "_tag"} <= set(params)
    params.clear()  # a copy: the registry is unaffected
    assert registry.get("Patient", "name") is not None


def test_reference_targets_and_composites(registry):
    subject = registry.get("Observation", "subject")
    assert subject.type == "reference" and "Patient" in subject.target and "Group" in subject.target
    combo = registry.get("Observation", "code-value-quantity")
    assert combo.type == "composite"
    assert [expr for _, expr in combo.component] == ["code", "value.as(Quantity)"]


def test_union_expressions_are_split_per_base_type(registry):
    # clinical-patient: one union over 32 resource types
    assert registry.get("Observation", "patient").expression == "Observation.subject.where(resolve() is Patient)"
    assert registry.get("AllergyIntolerance", "patient").expression == "AllergyIntolerance.patient"
    # two branches for the same type stay together
    assert (
        registry.get("DocumentReference", "identifier").expression
        == "DocumentReference.masterIdentifier | DocumentReference.identifier"
    )
    # parenthesised branches with a path after the closing parenthesis
    assert (
        registry.get("Observation", "value-string").expression
        == "(Observation.value as string) | (Observation.value as CodeableConcept).text"
    )
    assert registry.get("Condition", "onset-date").expression == "Condition.onset.as(dateTime) | Condition.onset.as(Period)"
    # every split expression only mentions its own type
    for rtype in ("Observation", "Condition", "Patient", "Encounter", "MedicationRequest"):
        for code, param in registry.for_type(rtype).items():
            if param.expression:
                for branch in split_union(param.expression):
                    lead = branch.lstrip("(").split(".")[0]
                    assert lead == rtype, (rtype, code, param.expression)


def test_by_url_returns_the_parameter_as_written(registry):
    param = registry.by_url("http://hl7.org/fhir/SearchParameter/clinical-patient")
    assert len(param.base) == 32
    assert param.expression.count("|") == 31
    assert registry.by_url("http://nowhere/SearchParameter/x") is None


def test_common_parameters_apply_to_every_type_rerooted(registry):
    for rtype in ("Patient", "Bundle", "Binary", "Observation"):
        assert registry.get(rtype, "_id").expression == f"{rtype}.id"
        assert registry.get(rtype, "_lastUpdated").expression == f"{rtype}.meta.lastUpdated"
        assert registry.get(rtype, "_tag").expression == f"{rtype}.meta.tag"
        assert registry.get(rtype, "_profile").type == "uri"
        assert registry.get(rtype, "_security") is not None and registry.get(rtype, "_source") is not None
    assert registry.get("Patient", "_text").base == ("DomainResource",)
    assert registry.get("Bundle", "_text") is None  # Bundle is not a DomainResource
    assert registry.get("Patient", "_id").base == ("Resource",)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("A.b | C.d", ["A.b", "C.d"]),
        ("(A.b as Quantity) | (A.b as Range)", ["(A.b as Quantity)", "(A.b as Range)"]),
        ("A.b.where(x = 'a|b') | C", ["A.b.where(x = 'a|b')", "C"]),
        ("(A | B).c", ["(A | B).c"]),
        ("A.where(b.exists() | c.exists())", ["A.where(b.exists() | c.exists())"]),
    ],
)
def test_split_union(text, parts):
    assert split_union(text) == parts


def test_runtime_add_and_remove(registry):
    generation = registry.generation
    (added,) = registry.add(custom())
    assert registry.generation > generation
    assert added.code == "birthplace" and added.base == ("Patient",)
    assert registry.get("Patient", "birthplace") == added
    assert registry.by_url(added.url).expression == added.expression
    assert SearchRegistry.default().get("Patient", "birthplace") is None  # fresh copies are independent
    registry.remove(added.url)
    assert registry.get("Patient", "birthplace") is None
    assert registry.by_url(added.url) is None
    registry.remove(added.url)  # removing twice is harmless


def test_runtime_add_splits_bases_and_updates_by_url(registry):
    sp = custom(
        base=["Patient", "Practitioner"],
        code="nickname",
        expression="Patient.name.where(use='nickname').given | Practitioner.name.where(use='nickname').given",
    )
    defs = registry.add(sp)
    assert {d.expression for d in defs} == {
        "Patient.name.where(use='nickname').given",
        "Practitioner.name.where(use='nickname').given",
    }
    registry.add({**sp, "base": ["Patient"], "expression": "Patient.name.given"})  # update, same url
    assert registry.get("Practitioner", "nickname") is None
    assert registry.get("Patient", "nickname").expression == "Patient.name.given"


def test_runtime_parameter_on_resource_applies_everywhere(registry):
    registry.add(custom(code="source-system", base=["Resource"], type="uri", expression="Resource.meta.source"))
    assert registry.get("Observation", "source-system").expression == "Observation.meta.source"
    assert registry.get("Bundle", "source-system").expression == "Bundle.meta.source"


def test_runtime_parameter_shadows_and_remove_restores(registry):
    official = registry.get("Patient", "gender")
    mine = custom(url="http://passerelle.example/SearchParameter/gender", code="gender", type="token",
                  expression="Patient.extension('http://example.org/gender-identity').value")
    registry.add(mine)
    assert registry.get("Patient", "gender").url == mine["url"]
    assert registry.get("Person", "gender") == SearchRegistry.default().get("Person", "gender")  # other bases untouched
    registry.remove(mine["url"])
    assert registry.get("Patient", "gender") == official


@pytest.mark.parametrize(
    "overrides, where",
    [
        ({"expression": None}, "SearchParameter.expression"),
        ({"code": None}, "SearchParameter.code"),
        ({"url": None}, "SearchParameter.url"),
        ({"base": []}, "SearchParameter.base"),
        ({"base": ["Patient", "Spaceship"]}, "SearchParameter.base"),
        ({"base": "Patient"}, "SearchParameter.base"),
        ({"type": "fuzzy"}, "SearchParameter.type"),
        ({"code": "a b"}, "SearchParameter.code"),
        ({"expression": "Patient.name.where("}, "SearchParameter.expression"),
        ({"expression": "Patient.name)"}, "SearchParameter.expression"),
        ({"expression": "Patient..name"}, "SearchParameter.expression"),
        ({"resourceType": "Patient"}, None),
    ],
)
def test_runtime_add_validates(registry, overrides, where):
    with pytest.raises(Unprocessable) as raised:
        registry.add(custom(**overrides))
    assert raised.value.status == 422
    if where:
        assert where in raised.value.expression
    assert registry.get("Patient", "birthplace") is None


def test_special_and_composite_need_no_expression(registry):
    (added,) = registry.add(custom(type="special", expression=None, code="near-home"))
    assert added.expression is None
