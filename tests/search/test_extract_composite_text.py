"""Extraction of composite parameters (component rows per element), bound code systems,
Reference.identifier and the whole-text parameters ``_text`` / ``_content``."""

from __future__ import annotations

import pytest

from server.search.extract import extract
from server.search.extract.composite import indexed_as
from server.search.extract.text import words
from server.search.index_rows import QuantityIndex, ReferenceIndex, TokenIndex
from server.search.registry import SearchRegistry

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@pytest.fixture(scope="module")
def registry() -> SearchRegistry:
    return SearchRegistry.default()


def rows(resource: dict, registry: SearchRegistry, prefix: str) -> list:
    return [r for r in extract(resource, registry) if r.param.startswith(prefix)]


def quantity(value, code="mm[Hg]") -> dict:
    return {"value": value, "unit": code, "system": UCUM, "code": code}


def coded(code: str, system: str = LOINC) -> dict:
    return {"coding": [{"system": system, "code": code}]}


BP = {
    "resourceType": "Observation", "id": "bp", "status": "final", "code": coded("85354-9"),
    "component": [
        {"code": coded("8480-6"), "valueQuantity": quantity(150)},
        {"code": coded("8462-4"), "valueQuantity": quantity(95)},
        {"code": coded("9999-9"), "valueString": "no quantity: no component-code-value-quantity rows"},
    ],
}


def test_component_rows_share_the_instance_of_their_element(registry):
    found = rows(BP, registry, "component-code-value-quantity$")
    assert found == [
        TokenIndex("component-code-value-quantity$0", LOINC, "8480-6", instance=0),
        QuantityIndex("component-code-value-quantity$1", UCUM, "mm[Hg]", "mm[Hg]", 150, 149.5, 150.5, instance=0),
        TokenIndex("component-code-value-quantity$0", LOINC, "8462-4", instance=1),
        QuantityIndex("component-code-value-quantity$1", UCUM, "mm[Hg]", "mm[Hg]", 95, 94.5, 95.5, instance=1),
    ]  # the third component has no quantity: none of its rows
    assert rows(BP, registry, "code-value-quantity$") == []  # the Observation itself has no value


def test_combo_is_answered_by_the_composites_it_is_the_union_of(registry):
    obs = {**BP, "code": coded("8480-6"), "valueQuantity": quantity(120)}
    assert rows(obs, registry, "combo-code-value-") == []  # no rows of its own...
    assert {r.instance for r in rows(obs, registry, "code-value-quantity$")} == {0}
    assert {r.instance for r in rows(obs, registry, "component-code-value-quantity$")} == {0, 1}
    combo = registry.get("Observation", "combo-code-value-quantity")
    assert indexed_as(registry, "Observation", combo) == ("code-value-quantity", "component-code-value-quantity")
    own = registry.get("Observation", "component-code-value-quantity")
    assert indexed_as(registry, "Observation", own) == ("component-code-value-quantity",)


def test_composite_of_concept_date_and_string(registry):
    obs = {"resourceType": "Observation", "status": "final", "code": coded("883-9"),
           "valueCodeableConcept": coded("112144000", "http://snomed.info/sct")}
    assert [(r.param, r.code) for r in rows(obs, registry, "code-value-concept$")] == [
        ("code-value-concept$0", "883-9"), ("code-value-concept$1", "112144000"),
    ]
    obs = {"resourceType": "Observation", "status": "final", "code": coded("x"), "valuePeriod": {"start": "2024-03-01"}}
    (_, date_row) = rows(obs, registry, "code-value-date$")
    assert date_row.param == "code-value-date$1" and date_row.instance == 0 and date_row.high is None


def test_document_reference_relationship_errata(registry):
    # R4 swaps the two components' expressions; we index them the R4B/R5 way round
    doc = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {}}],
           "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/d0"}}]}
    assert rows(doc, registry, "relationship$") == [
        ReferenceIndex("relationship$0", "DocumentReference", "d0", instance=0),
        TokenIndex("relationship$1", "http://hl7.org/fhir/document-relationship-type", "replaces", instance=0),
    ]


def test_resource_variable_in_a_component(registry):
    seq = {"resourceType": "MolecularSequence", "coordinateSystem": 0,
           "referenceSeq": {"chromosome": coded("1", "http://terminology.hl7.org/CodeSystem/chromosome-human")},
           "variant": [{"start": 10, "end": 20}, {"start": 30, "end": 40}]}
    found = rows(seq, registry, "chromosome-variant-coordinate$")
    assert [(r.param, r.instance) for r in found] == [
        ("chromosome-variant-coordinate$0", 0), ("chromosome-variant-coordinate$1", 0), ("chromosome-variant-coordinate$2", 0),
        ("chromosome-variant-coordinate$0", 1), ("chromosome-variant-coordinate$1", 1), ("chromosome-variant-coordinate$2", 1),
    ]


def test_composites_agree_between_fast_path_and_fhirpathpy(registry):
    for resource in (BP, {**BP, "code": coded("8480-6"), "valueQuantity": quantity(1)}):
        fast, slow = extract(resource, registry), extract(resource, registry, fast=False)
        assert {r for r in fast if r.instance is not None} == {r for r in slow if r.instance is not None}
        assert set(fast) == set(slow)


# -- bound codes, Reference.identifier -----------------------------------------------------


def test_bound_codes_carry_their_system(registry):
    patient = {"resourceType": "Patient", "gender": "male", "address": [{"use": "home"}], "link": [
        {"other": {"reference": "Patient/2"}, "type": "seealso"}]}
    assert rows(patient, registry, "gender") == [TokenIndex("gender", "http://hl7.org/fhir/administrative-gender", "male")]
    assert rows(patient, registry, "address-use") == [TokenIndex("address-use", "http://hl7.org/fhir/address-use", "home")]
    appt = {"resourceType": "Appointment", "status": "booked",
            "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]}
    assert rows(appt, registry, "part-status") == [
        TokenIndex("part-status", "http://hl7.org/fhir/participationstatus", "accepted")
    ]
    assert rows(appt, registry, "status") == [TokenIndex("status", "http://hl7.org/fhir/appointmentstatus", "booked")]


def test_unbound_and_multi_system_codes_stay_bare(registry):
    task = {"resourceType": "Task", "status": "draft", "intent": "order"}  # task-intent: two systems
    assert rows(task, registry, "intent") == [TokenIndex("intent", None, "order")]
    assert rows(task, registry, "status") == [TokenIndex("status", "http://hl7.org/fhir/task-status", "draft")]


def test_reference_identifier_is_a_token_row(registry):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "subject": {"reference": "Patient/1", "identifier": {"system": "urn:oid:1.2.3", "value": "42"}},
           "performer": [{"identifier": {"value": "no-system"}}, {"identifier": {}}]}
    assert rows(obs, registry, "subject") == [
        ReferenceIndex("subject", "Patient", "1"), TokenIndex("subject:identifier", "urn:oid:1.2.3", "42"),
    ]
    assert rows(obs, registry, "performer") == [TokenIndex("performer:identifier", None, "no-system")]


# -- _text, _content -----------------------------------------------------------------------


def test_text_is_the_narrative_words_folded_once_each(registry):
    patient = {"resourceType": "Patient", "text": {"status": "generated", "div":
               '<div xmlns="http://www.w3.org/1999/xhtml"><p>H&#233;l&#232;ne <b>DUPRÉ</b>, Lyon &amp; Lyon</p></div>'}}
    assert rows(patient, registry, "_text") == [TokenIndex("_text", None, None, " helene dupre lyon ")]
    assert rows({"resourceType": "Patient"}, registry, "_text") == []


def test_content_is_every_word_but_references_systems_ids_and_dates(registry):
    obs = {"resourceType": "Observation", "id": "obs-1", "meta": {"source": "urn:feed"}, "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6", "display": "Systolic"}], "text": "Tension"},
           "subject": {"reference": "Patient/p1", "display": "Hélène"}, "effectiveDateTime": "2024-03-05T10:00:00Z",
           "note": [{"text": "Patient anxieuse"}], "text": {"status": "generated", "div": "<div>Narrative</div>"}}
    (row,) = rows(obs, registry, "_content")
    assert row.text == " narrative final 8480 6 systolic tension patient anxieuse helene "  # ASCII words first


def test_words_fold_like_string_search():
    assert words("Hélène DUPRÉ-Lefèvre, ﬁne") == ["helene", "dupre", "lefevre", "fine"]
    assert words("--") == []
