"""terminology/: ValueSet expansion, subsumption and bound code systems, on the R4 data."""

from __future__ import annotations

import pytest

import terminology
from terminology.valuesets import Expansion, NotExpandable, _value_sets

GENDER = "http://hl7.org/fhir/administrative-gender"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"


def codes(expansion: Expansion, system: str) -> set[str]:
    return {c for s, c in expansion.codes if s == system}


def test_include_whole_system_we_hold():
    found = terminology.expand("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")  # version ignored
    assert codes(found, GENDER) == {"male", "female", "other", "unknown"}
    assert found.systems == frozenset()


def test_include_whole_external_system_is_every_code_of_it():
    found = terminology.expand("http://hl7.org/fhir/ValueSet/observation-codes")  # all of LOINC
    assert found.systems == {"http://loinc.org"} and not found.codes
    assert ("http://loinc.org", "8480-6") in found and ("http://snomed.info/sct", "1") not in found


def test_include_concept_list():
    found = terminology.expand("http://hl7.org/fhir/ValueSet/example-extensional")
    assert codes(found, "http://loinc.org") == {"14647-2", "2093-3", "35200-5", "9342-7"}


def test_is_a_filter_follows_the_hierarchy_and_exclude_removes():
    # v3-ActEncounterCode: is-a _ActEncounterCode, the abstract head excluded
    found = codes(terminology.expand("http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"), ACT_CODE)
    assert {"IMP", "ACUTE", "NONAC", "AMB", "EMER"} <= found  # ACUTE and NONAC sit under IMP
    assert "_ActEncounterCode" not in found


def test_is_not_a_filter():
    found = codes(terminology.expand("http://hl7.org/fhir/ValueSet/patient-contactrelationship"), V2_0131)
    assert "C" in found and "O" not in found


def test_include_value_set_imports():
    # all-types = data-types + resource-types + abstract-types
    found = terminology.expand("http://hl7.org/fhir/ValueSet/all-types")
    assert ("http://hl7.org/fhir/resource-types", "Patient") in found
    assert ("http://hl7.org/fhir/data-types", "Quantity") in found


def test_expansion_algebra():
    a = Expansion(frozenset({("s", "1"), ("t", "9")}), frozenset({"loinc"}))
    b = Expansion(frozenset({("s", "1"), ("s", "2"), ("loinc", "x")}))
    assert a.intersection(b) == Expansion(frozenset({("s", "1"), ("loinc", "x")}))
    assert a.union(b) == Expansion(frozenset({("s", "1"), ("s", "2"), ("t", "9")}), frozenset({"loinc"}))
    assert a.difference(Expansion(frozenset({("t", "9")})), "vs") == Expansion(frozenset({("s", "1")}), frozenset({"loinc"}))
    with pytest.raises(NotExpandable):  # "all of LOINC but one code" cannot be listed
        a.difference(Expansion(frozenset({("loinc", "x")})), "vs")


def test_what_cannot_be_expanded_says_why():
    with pytest.raises(NotExpandable, match="Unknown ValueSet"):
        terminology.expand("http://example.org/ValueSet/nope")
    with pytest.raises(NotExpandable, match="snomed"):  # an is-a filter on SNOMED CT
        terminology.expand("http://hl7.org/fhir/ValueSet/clinical-findings")


def test_most_r4_value_sets_expand_and_are_cached():
    urls = list(_value_sets())
    expanded = 0
    for url in urls:
        try:
            terminology.expand(url)
            expanded += 1
        except NotExpandable:
            pass
    assert expanded / len(urls) > 0.95
    assert terminology.expand(urls[0]) is terminology.expand(urls[0])  # cached


def test_subsumption_follows_the_hierarchy():
    assert terminology.subsumed(ACT_CODE, "IMP") == {"IMP", "ACUTE", "NONAC"}
    assert terminology.subsuming(ACT_CODE, "ACUTE") == {"ACUTE", "IMP", "_ActEncounterCode", "_ActCareProvisionCode"}
    assert terminology.subsumed(GENDER, "male") == {"male"}  # a flat system: the code itself
    with pytest.raises(NotExpandable):
        terminology.subsumed("http://snomed.info/sct", "404684003")


def test_v3_child_property_adds_a_second_parent():
    cs = terminology.code_system(ACT_CODE)
    multi = [code for code, parents in cs.parents.items() if len(parents) > 1]
    assert multi  # v3 codes with two parents exist, through the "child" property
    code = multi[0]
    for parent in cs.parents[code]:
        assert code in terminology.subsumed(ACT_CODE, parent)


@pytest.mark.parametrize(
    "path, system",
    [
        ("Patient.gender", GENDER),
        ("Address.use", "http://hl7.org/fhir/address-use"),
        ("Appointment.participant.status", "http://hl7.org/fhir/participationstatus"),
        ("Observation.status", "http://hl7.org/fhir/observation-status"),
        ("Task.intent", None),  # task-intent draws from two code systems
        ("Patient.maritalStatus", None),  # not a code element (and extensible)
    ],
)
def test_bound_system_comes_from_the_required_binding(path, system):
    assert terminology.bound_system(path) == system
