"""Primitives with a ``_`` sibling (extensions, ids): one node, one row per value.

``"birthDate": "1974-12-25", "_birthDate": {"extension": [...]}`` is one FHIRPath node,
the date, whose extensions ``.extension`` reaches; arrays pair by index (``"given":
["A", "B"], "_given": [null, {...}]``), and a ``null`` value with an extension is a node
without a value, which indexes nothing. Rows are checked against hand-written
expectations (fhirpathpy is wrong here, see ``server/search/extract/fallback.py``).
"""

from __future__ import annotations

import copy
from datetime import datetime

import pytest

from server.search.extract import extract, is_fast
from server.search.extract.fastpath import Primitive, compile_fast
from server.search.index_rows import DateIndex, StringIndex, TokenIndex
from server.search.registry import SearchRegistry
from tests.search.test_extract import HAND_WRITTEN, official_examples

GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
BIRTH_TIME = {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1974-12-25T14:35:45-05:00"}
ABSENT = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
TRANSLATION = {"url": "http://hl7.org/fhir/StructureDefinition/translation", "extension": [
    {"url": "lang", "valueCode": "en"}, {"url": "content", "valueString": "Helen"}]}
SUFFIX = {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix", "valueString": "van"}


@pytest.fixture(scope="module")
def registry() -> SearchRegistry:
    return SearchRegistry.default()


def patient(**elements) -> dict:
    return {"resourceType": "Patient", "id": "p1", **elements}


def rows(resource: dict, registry: SearchRegistry, code: str, *, fast: bool = True) -> list:
    return [r for r in extract(resource, registry, fast=fast) if r.param == code]


def runtime(sp_type: str, expression: str) -> SearchRegistry:
    registry = SearchRegistry(official=False)
    registry.add({"resourceType": "SearchParameter", "url": "http://x/SearchParameter/p", "code": "p",
                  "base": ["Patient"], "type": sp_type, "expression": expression})
    return registry


def without_extensions(value):
    """``value`` with every ``_x`` sibling removed: what must index the same when each
    ``_x`` has a value beside it."""
    if isinstance(value, dict):
        return {k: without_extensions(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [without_extensions(v) for v in value]
    return value


def extension_only(value) -> bool:
    """Whether some ``_x`` has no value beside it (``"_gender"`` alone, a null in ``given``)."""
    if isinstance(value, list):
        return any(extension_only(v) for v in value)
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key.startswith("_") and key != "_" and item is not None:
            base = value.get(key[1:])
            if base is None:
                return True
            if isinstance(item, list):
                values = base if isinstance(base, list) else [base]
                if any(e is not None and (i >= len(values) or values[i] is None) for i, e in enumerate(item)):
                    return True
        if extension_only(item):
            return True
    return False


# -- nodes ---------------------------------------------------------------------------------


def test_a_date_with_an_extension_is_one_node():
    p = patient(birthDate="1974-12-25", _birthDate={"extension": [BIRTH_TIME]})
    (node,) = compile_fast("Patient.birthDate")(p)
    assert node == ("date", "1974-12-25") and isinstance(node, Primitive)
    assert compile_fast("Patient.birthDate.extension")(p) == [("Extension", BIRTH_TIME)]
    url = BIRTH_TIME["url"]
    assert compile_fast(f"Patient.birthDate.extension('{url}').value")(p) == [("dateTime", BIRTH_TIME["valueDateTime"])]
    assert compile_fast("Patient.birthDate.exists()")(patient(_birthDate={"extension": [ABSENT]})) == [("boolean", True)]


def test_a_sparse_extension_list_pairs_by_index():
    name = {"given": ["Hélène", "Marie", None], "_given": [None, {"extension": [TRANSLATION]}, {"extension": [ABSENT]}]}
    nodes = compile_fast("Patient.name.given")(patient(name=[name]))
    assert nodes == [("string", "Hélène"), ("string", "Marie"), ("string", None)]
    assert [type(n) is Primitive for n in nodes] == [False, True, True]
    assert compile_fast("Patient.name.given.extension")(patient(name=[name])) == [("Extension", TRANSLATION), ("Extension", ABSENT)]
    assert compile_fast("Patient.name.given[2]")(patient(name=[name])) == [("string", None)]
    # the value list shorter than the extension list, or no value list at all
    assert compile_fast("Patient.name.given")(patient(name=[{"given": ["A"], "_given": [None, {"id": "x"}]}])) == [
        ("string", "A"), ("string", None)
    ]
    assert compile_fast("Patient.name.given")(patient(name=[{"_given": [{"id": "x"}]}])) == [("string", None)]


# -- rows ----------------------------------------------------------------------------------


def test_birth_date_with_an_extension_indexes_the_date_once(registry):
    p = patient(birthDate="1974-12-25", _birthDate={"extension": [BIRTH_TIME]})
    expected = [DateIndex("birthdate", datetime(1974, 12, 25), datetime(1974, 12, 25, 23, 59, 59, 999999))]
    assert rows(p, registry, "birthdate") == expected
    assert rows(p, registry, "birthdate", fast=False) == expected
    assert rows(patient(_birthDate={"extension": [ABSENT]}), registry, "birthdate") == []


def test_given_with_sparse_extensions_indexes_each_value_once(registry):
    p = patient(name=[{"family": "Dupré", "given": ["Hélène", "Marie", None],
                       "_given": [None, {"extension": [TRANSLATION]}, {"extension": [ABSENT]}]}])
    expected = [StringIndex("given", "helene", "Hélène"), StringIndex("given", "marie", "Marie")]
    assert rows(p, registry, "given") == expected
    assert rows(p, registry, "given", fast=False) == expected
    assert [r.exact for r in rows(p, registry, "name")] == ["Dupré", "Hélène", "Marie"]
    # first() is the first given, not the first value: here one with only an extension
    first = {"given": [None, "Marie"], "_given": [{"extension": [ABSENT]}, None]}
    assert rows(patient(name=[first]), runtime("string", "Patient.name.given.first()"), "p") == []
    assert rows(patient(name=[first]), runtime("string", "Patient.name.given[1]"), "p") == [StringIndex("p", "marie", "Marie")]
    translated = runtime("string", "Patient.name.given.extension('http://hl7.org/fhir/StructureDefinition/translation')"
                                   ".extension('content').value")
    assert rows(p, translated, "p") == [StringIndex("p", "helen", "Helen")]


def test_gender_with_an_extension(registry):
    p = patient(gender="male", _gender={"extension": [TRANSLATION]})
    assert rows(p, registry, "gender") == [TokenIndex("gender", GENDER_SYSTEM, "male")]
    assert rows(p, registry, "gender", fast=False) == [TokenIndex("gender", GENDER_SYSTEM, "male")]
    assert rows(p, runtime("token", "Patient.gender = 'male'"), "p") == [TokenIndex("p", None, "true")]
    assert rows(p, runtime("token", "Patient.gender != 'male'"), "p") == [TokenIndex("p", None, "false")]
    absent = patient(_gender={"extension": [ABSENT]})
    assert rows(absent, registry, "gender") == rows(absent, registry, "gender", fast=False) == []
    # no value: the comparison is empty (unknown), neither true nor false
    assert rows(absent, runtime("token", "Patient.gender = 'male'"), "p") == []
    assert rows(absent, runtime("token", "Patient.gender.exists() and Patient.gender != 'male'"), "p") == []


def test_deceased_false_with_an_extension_is_false(registry):
    p = patient(deceasedBoolean=False, _deceasedBoolean={"extension": [TRANSLATION]})
    assert rows(p, registry, "deceased") == [TokenIndex("deceased", None, "false")]
    p = patient(deceasedBoolean=True, _deceasedBoolean={"id": "d"})
    assert rows(p, registry, "deceased") == [TokenIndex("deceased", None, "true")]
    assert rows(patient(_deceasedBoolean={"extension": [ABSENT]}), registry, "deceased") == []  # unknown
    assert rows(patient(_active={"extension": [ABSENT]}), runtime("token", "Patient.active and Patient.active"), "p") == []


def test_where_over_an_element_with_an_extension(registry):
    p = patient(
        name=[{"family": "Dupré", "_family": {"extension": [SUFFIX]}, "given": ["Hélène"]}, {"family": "Martin", "given": ["Jo"]}],
        telecom=[{"system": "email", "_system": {"id": "s1"}, "value": "a@b.fr", "_value": {"extension": [TRANSLATION]}},
                 {"system": "phone", "value": "+33 1 23"}],
    )
    where_family = runtime("string", "Patient.name.where(family='Dupré').given")
    assert is_fast("Patient.name.where(family='Dupré').given")
    assert rows(p, where_family, "p") == [StringIndex("p", "helene", "Hélène")]
    assert rows(p, registry, "email") == [TokenIndex("email", "email", "a@b.fr")]
    assert rows(p, registry, "phone") == [TokenIndex("phone", "phone", "+33 1 23")]
    assert rows(p, registry, "telecom") == [TokenIndex("telecom", "email", "a@b.fr"), TokenIndex("telecom", "phone", "+33 1 23")]
    assert [r.exact for r in rows(p, registry, "family")] == ["Dupré", "Martin"]


def test_fallback_drops_extension_nodes():
    expression = "Patient.name.given.where(true)"  # outside the fast subset: fhirpathpy
    assert not is_fast(expression)
    p = patient(name=[{"given": ["Hélène", "Marie", None], "_given": [None, {"extension": [TRANSLATION]}, {"extension": [ABSENT]}]}])
    assert rows(p, runtime("string", expression), "p") == [
        StringIndex("p", "helene", "Hélène"), StringIndex("p", "marie", "Marie")
    ]


# -- the same rows as without the extensions -------------------------------------------------


@pytest.mark.parametrize("source", ["hand-written", "official"])
def test_extensions_beside_values_change_no_row(registry, source):
    """Every row of a resource whose ``_x`` all sit beside a value is the row of the same
    resource without them: exactly one row per value, none added or lost."""
    resources = [copy.deepcopy(r) for r in HAND_WRITTEN] if source == "hand-written" else official_examples()
    if source == "hand-written":  # extensions everywhere a primitive has a value
        for resource in resources:
            _extend_every_primitive(resource)
    checked = 0
    for resource in resources:
        if extension_only(resource):
            continue
        plain = without_extensions(resource)
        indexed = [r for r in extract(resource, registry) if r.param != "_content"]  # reads every string
        assert indexed == [r for r in extract(plain, registry) if r.param != "_content"], resource.get("resourceType")
        checked += resource != plain
    assert checked > 0


def _extend_every_primitive(node) -> None:
    if isinstance(node, list):
        for item in node:
            _extend_every_primitive(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in list(node.items()):
        if key.startswith("_") or key == "resourceType":
            continue
        if isinstance(value, (str, bool, int, float)):
            node["_" + key] = {"extension": [TRANSLATION]}
        elif isinstance(value, list) and value and all(isinstance(v, (str, bool, int, float)) for v in value):
            node["_" + key] = [None if i % 2 else {"id": f"{key}{i}"} for i in range(len(value))]
        else:
            _extend_every_primitive(value)
