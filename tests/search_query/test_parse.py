"""parse_search is pure: these need no database."""

from datetime import datetime
from decimal import Decimal

import pytest

from server.errors import BadRequest
from server.search.parse import Criterion, HasCriterion, IncludeSpec, parse_search
from server.search.parse_values import (
    DateValue,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    parse_date_range,
    split_escaped,
    unescape,
)


def parse(registry, rtype, *params):
    return parse_search(rtype, list(params), registry)


def test_and_or_and_escaped_comma(registry):
    q = parse(registry, "Patient", ("name", r"a\,b,c"), ("name", "d"))
    assert [c.values for c in q.criteria] == [
        (StringValue("a,b"), StringValue("c")),
        (StringValue("d"),),
    ]


def test_escapes_survive_each_level():
    assert split_escaped(r"a\|b|c\\|d", "|") == [r"a\|b", r"c\\", "d"]
    assert unescape(r"a\|b\$c\,d\\e") == r"a|b$c,d\e"


@pytest.mark.parametrize(
    "raw, value",
    [
        ("male", TokenValue("male")),
        ("http://s|male", TokenValue("male", "http://s", True)),
        ("|male", TokenValue("male", None, True)),
        ("http://s|", TokenValue(None, "http://s", True)),
        (r"http://s|a\|b", TokenValue("a|b", "http://s", True)),
    ],
)
def test_token_forms(registry, raw, value):
    (crit,) = parse(registry, "Patient", ("gender", raw)).criteria
    assert crit.values == (value,)


def test_date_precision_ranges():
    assert parse_date_range("2024", "d") == (datetime(2024, 1, 1), datetime(2024, 12, 31, 23, 59, 59, 999999))
    assert parse_date_range("2024-02", "d")[1] == datetime(2024, 2, 29, 23, 59, 59, 999999)
    assert parse_date_range("2024-12-31T23:00", "d") == (
        datetime(2024, 12, 31, 23, 0),
        datetime(2024, 12, 31, 23, 0, 59, 999999),
    )
    assert parse_date_range("2024-01-01T00:30:00+01:00", "d")[0] == datetime(2023, 12, 31, 23, 30)
    assert parse_date_range("2024-01-01T00:30:00 01:00", "d")[0] == datetime(2023, 12, 31, 23, 30)  # "+" as decoded
    assert parse_date_range("2024-01-01T10:00:00.5Z", "d") == (
        datetime(2024, 1, 1, 10, 0, 0, 500000),
        datetime(2024, 1, 1, 10, 0, 0, 599999),
    )
    assert parse_date_range("9999", "d")[1] == datetime.max


@pytest.mark.parametrize("bad", ["2024-13", "24", "2024-02-30", "2024-01-01T25:00", "yesterday"])
def test_bad_dates(registry, bad):
    with pytest.raises(BadRequest) as e:
        parse(registry, "Patient", ("birthdate", bad))
    assert "birthdate" in e.value.diagnostics


def test_prefixes(registry):
    q = parse(registry, "Patient", ("birthdate", "ge2024,lt2020-05"))
    assert [(v.prefix, v.text) for v in q.criteria[0].values] == [("ge", "2024"), ("lt", "2020-05")]
    assert isinstance(q.criteria[0].values[0], DateValue)


def test_number_precision(registry):
    (crit,) = parse(registry, "RiskAssessment", ("probability", "gt100")).criteria
    assert crit.values == (NumberValue("gt", Decimal(100), Decimal("99.5"), Decimal("100.5")),)
    (crit,) = parse(registry, "RiskAssessment", ("probability", "1e2")).criteria
    assert (crit.values[0].low, crit.values[0].high) == (Decimal(50), Decimal(150))


def test_quantity_forms(registry):
    (crit,) = parse(registry, "Observation", ("value-quantity", "le5.4|http://unitsofmeasure.org|mg")).criteria
    v = crit.values[0]
    assert isinstance(v, QuantityValue) and (v.number.prefix, v.system, v.code) == ("le", "http://unitsofmeasure.org", "mg")
    (crit,) = parse(registry, "Observation", ("value-quantity", "5.4||mg")).criteria
    assert (crit.values[0].system, crit.values[0].code) == (None, "mg")


@pytest.mark.parametrize(
    "name, raw, value",
    [
        ("subject", "123", ReferenceValue("123")),
        ("subject", "Patient/123", ReferenceValue("123", "Patient")),
        ("subject:Patient", "123", ReferenceValue("123", "Patient")),
        ("subject", "Patient/1/_history/2", ReferenceValue("1", "Patient", "2")),
        ("subject", "http://x.org/fhir/Patient/1", ReferenceValue(None, url="http://x.org/fhir/Patient/1")),
    ],
)
def test_reference_forms(registry, name, raw, value):
    (crit,) = parse(registry, "Observation", (name, raw)).criteria
    assert crit.values == (value,)


def test_reference_type_modifier_must_be_a_target(registry):
    with pytest.raises(BadRequest):
        parse(registry, "Observation", ("subject:Practitioner", "1"))
    with pytest.raises(BadRequest):
        parse(registry, "Observation", ("subject:Patient", "Group/1"))


def test_chain_two_levels(registry):
    (crit,) = parse(registry, "Observation", ("subject:Patient.organization.name", "acme")).criteria
    assert crit.code == "subject" and crit.modifier == "Patient"
    assert crit.chain.code == "organization" and crit.chain.types == ("Patient",)
    assert crit.chain.chain.code == "name" and crit.chain.chain.types == ("Organization",)


def test_chain_without_type_keeps_targets_having_the_parameter(registry):
    (crit,) = parse(registry, "Observation", ("subject.name", "x")).criteria
    assert "Patient" in crit.chain.types and "Group" not in crit.chain.types


def test_has_nested(registry):
    (crit,) = parse(registry, "Patient", ("_has:Observation:subject:_has:Provenance:target:agent", "x")).criteria
    assert isinstance(crit, HasCriterion) and crit.source_type == "Observation"
    assert isinstance(crit.inner, HasCriterion) and crit.inner.source_type == "Provenance"
    assert isinstance(crit.inner.inner, Criterion) and crit.inner.inner.code == "agent"


def test_result_parameters(registry):
    q = parse(
        registry,
        "Observation",
        ("_sort", "-date,code"),
        ("_count", "10"),
        ("_offset", "20"),
        ("_total", "accurate"),
        ("_summary", "count"),
        ("_elements", "id,code"),
        ("_include", "Observation:subject:Patient"),
        ("_include:iterate", "Patient:organization"),
        ("_revinclude", "Provenance:target"),
        ("_format", "json"),
        ("_pretty", "true"),
    )
    assert [(k.code, k.descending) for k in q.sort] == [("date", True), ("code", False)]
    assert (q.count, q.offset, q.total, q.summary, q.elements) == (10, 20, "accurate", "count", ("id", "code"))
    assert q.includes == [
        IncludeSpec("Observation", "subject", "Patient"),
        IncludeSpec("Patient", "organization", None, iterate=True),
    ]
    assert q.revincludes == [IncludeSpec("Provenance", "target")]
    assert q.criteria == [] and q.unknown == []


def test_unknown_parameters_are_reported_not_raised(registry):
    q = parse(registry, "Patient", ("nonsense", "1"), ("_sort", "nonsense"), ("_query", "x"), ("subject.name", "x"))
    assert [u.name for u in q.unknown] == ["nonsense", "_sort", "_query", "subject.name"]


def test_unsupported_modifier_is_rejected(registry):
    with pytest.raises(BadRequest) as e:
        parse(registry, "Observation", ("code:contains", "x"))
    assert e.value.code == "not-supported"
    with pytest.raises(BadRequest):
        parse(registry, "Patient", ("name:bogus", "x"))


@pytest.mark.parametrize(
    "param", [("_count", "-1"), ("_count", "ten"), ("_total", "all"), ("_summary", "yes"), ("name:missing", "maybe")]
)
def test_bad_control_values(registry, param):
    with pytest.raises(BadRequest):
        parse(registry, "Patient", param)


def test_system_level_type_and_common_parameters(registry):
    q = parse(registry, None, ("_type", "Patient,Organization"), ("name", "acme"))
    assert q.types == ("Patient", "Organization") and q.criteria[0].code == "name"
    q = parse(registry, None, ("_id", "a"), ("name", "x"))
    assert q.types == () and [c.code for c in q.criteria] == ["_id"] and q.unknown[0].name == "name"
    with pytest.raises(BadRequest):
        parse(registry, None, ("_type", "Nope"))


def test_empty_value_is_ignored(registry):
    assert parse(registry, "Patient", ("name", "")).criteria == []


def test_unknown_reasons(registry):
    q = parse(registry, "Location", ("near", "x"), ("organization.nonsense", "x"), ("_type", "Patient"))
    assert [u.reason for u in q.unknown] == [
        "special search parameters are not supported",
        "the chained or reverse-chained parameter is unknown",
        "_type applies to system-level searches only",
    ]


# --- composites, terminology modifiers, _text / _content, _list -----------------------------


def test_composite_value_is_typed_per_component(registry):
    q = parse(registry, "Observation", ("code-value-quantity", r"http://loinc.org|8480-6$gt100|http://unitsofmeasure.org|mm[Hg]"))
    (value,) = q.criteria[0].values
    (t0, token), (t1, qty) = value.parts
    assert (t0, token) == ("token", TokenValue("8480-6", "http://loinc.org", True))
    assert t1 == "quantity" and qty.number.prefix == "gt" and (qty.system, qty.code) == ("http://unitsofmeasure.org", "mm[Hg]")
    q = parse(registry, "Observation", ("code-value-string", r"x$a\$b"))  # an escaped $ stays in the value
    assert q.criteria[0].values[0].parts[1] == ("string", StringValue("a$b"))


@pytest.mark.parametrize(
    "param",
    [("code-value-quantity", "8480-6"), ("code-value-quantity", "a$b$c"), ("code-value-quantity", "a$big"),
     ("code-value-quantity:missing", "true"), ("code-value-date", "x$not-a-date")],
)
def test_bad_composite_values(registry, param):
    with pytest.raises(BadRequest):
        parse(registry, "Observation", param)


def test_composite_cannot_sort(registry):
    q = parse(registry, "Observation", ("_sort", "code-value-quantity"))
    assert not q.sort and q.unknown[0].name == "_sort"


def test_terminology_modifiers_become_code_sets(registry):
    q = parse(registry, "Patient", ("gender:in", "http://hl7.org/fhir/ValueSet/administrative-gender"))
    (value,) = q.criteria[0].values
    assert ("http://hl7.org/fhir/administrative-gender", "male") in value.codes
    q = parse(registry, "Encounter", ("class:below", "http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP"))
    assert {c for _, c in q.criteria[0].values[0].codes} == {"IMP", "ACUTE", "NONAC"}
    with pytest.raises(BadRequest) as e:
        parse(registry, "Encounter", ("class:in", "http://example.org/ValueSet/none"))
    assert e.value.code == "not-supported"


def test_text_and_content_take_words_and_no_modifier(registry):
    q = parse(registry, "Patient", ("_text", "hélène dupré"), ("_content", "a,b"))
    assert [c.values for c in q.criteria] == [(StringValue("hélène dupré"),), (StringValue("a"), StringValue("b"))]
    with pytest.raises(BadRequest):
        parse(registry, "Patient", ("_text:exact", "x"))


def test_list(registry):
    q = parse(registry, "Patient", ("_list", "l1,l2"))
    assert q.criteria[0].code == "_list" and q.criteria[0].values == (TokenValue("l1"), TokenValue("l2"))
    q = parse(registry, "Patient", ("_list", "$current-allergies"))
    assert not q.criteria and q.unknown[0].name == "_list"
