"""Extraction and search together: real resources go through ``extract()`` into the index
tables (SQLite; PostgreSQL too when PASSERELLE_TEST_DATABASE_URL is set), then each test
states a query and the ids it must find. Composites, :identifier / :of-type, bound code
systems, terminology modifiers, absolute references, _text / _content, _list and the
common parameters (_profile, _tag, _security, _source)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert

from server.errors import BadRequest
from server.search.extract import extract
from server.search.registry import SearchRegistry
from server.storage.models import Resource
from tests.search_query.conftest import TABLE_OF, Db, make_engine

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"


def coded(code: str, system: str = LOINC, display: str | None = None) -> dict:
    coding = {"system": system, "code": code, **({"display": display} if display else {})}
    return {"coding": [coding]}


def mmhg(value) -> dict:
    return {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}


def bp(id_: str, subject: str, systolic, diastolic, **more) -> dict:
    return {
        "resourceType": "Observation", "id": id_, "status": "final", "code": coded("85354-9"),
        "subject": {"reference": subject},
        "component": [
            {"code": coded("8480-6", display="Systolic blood pressure"), "valueQuantity": mmhg(systolic)},
            {"code": coded("8462-4", display="Diastolic blood pressure"), "valueQuantity": mmhg(diastolic)},
        ],
        **more,
    }


RESOURCES = [
    {"resourceType": "Patient", "id": "p1", "gender": "male",
     "meta": {"profile": [US_CORE], "tag": [{"system": "urn:passerelle:source", "code": "hl7v2-adt"}],
              "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}],
              "source": "urn:passerelle:mllp:adt#MSG1"},
     "text": {"status": "generated",
              "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>H&#233;l&#232;ne <b>Dupré</b>, born in Lyon</p></div>'},
     "identifier": [{"system": "http://hosp/mrn", "value": "111", "type": coded("MR", V2_0203)}],
     "name": [{"family": "Dupré", "given": ["Hélène"]}],
     "address": [{"use": "home", "city": "Lyon"}]},
    {"resourceType": "Patient", "id": "p2", "gender": "female", "address": [{"use": "work", "city": "Paris"}],
     "identifier": [{"system": "http://hosp/mrn", "value": "222", "type": coded("MR", V2_0203)}]},
    {"resourceType": "Patient", "id": "p3", "gender": "other"},
    # Systolic above 100 and diastolic above 100 live in *different* components of bp2:
    # component-code-value-quantity=8480-6$gt100 must not pair them.
    bp("bp1", "Patient/p1", 150, 95, performer=[{"identifier": {"system": "http://rpps", "value": "123"}}]),
    bp("bp2", "http://other.example/fhir/Patient/p1", 90, 150),
    {"resourceType": "Observation", "id": "sys", "status": "final", "subject": {"reference": "Patient/p2"},
     "code": coded("8480-6", display="Systolic blood pressure"), "valueQuantity": mmhg(130)},
    {"resourceType": "Observation", "id": "glu", "status": "final", "subject": {"reference": "Patient/p2"},
     "code": coded("2339-0"), "valueQuantity": {"value": 5.4, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}},
    {"resourceType": "Observation", "id": "abo", "status": "final", "code": coded("883-9"),
     "valueCodeableConcept": coded("112144000", "http://snomed.info/sct"), "note": [{"text": "Groupe sanguin A"}]},
    {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"system": ACT_CODE, "code": "IMP"}},
    {"resourceType": "Encounter", "id": "e2", "status": "finished", "class": {"system": ACT_CODE, "code": "AMB"}},
    {"resourceType": "Encounter", "id": "e3", "status": "finished", "class": {"system": "http://example.org/c", "code": "X"}},
    {"resourceType": "Encounter", "id": "e4", "status": "finished", "class": {"system": ACT_CODE, "code": "ACUTE"}},
    {"resourceType": "List", "id": "l1", "status": "current", "mode": "working",
     "entry": [{"item": {"reference": "Patient/p1"}}, {"item": {"reference": "Observation/glu"}}]},
    {"resourceType": "List", "id": "l2", "status": "current", "mode": "working", "entry": [{"item": {"reference": "Patient/p3"}}]},
    {"resourceType": "DocumentReference", "id": "d1", "status": "current", "content": [{"attachment": {}}],
     "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/d0"}}]},
]


@pytest.fixture(scope="module")
def registry():
    return SearchRegistry.default()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stored(request, tmp_path_factory, registry):
    engine = make_engine(request.param, tmp_path_factory, schema="search_e2e_test")
    ids = {}
    with engine.begin() as conn:
        for resource in RESOURCES:
            pid = conn.execute(
                insert(Resource).values(resource_type=resource["resourceType"], fhir_id=resource["id"], version_id=1,
                                        last_updated=datetime(2024, 1, 1), deleted=False).returning(Resource.pid)
            ).scalar_one()
            ids[pid] = resource["id"]
            for row in extract(resource, registry):
                values = {f: getattr(row, f) for f in row.__slots__}
                conn.execute(insert(TABLE_OF[type(row)]).values(pid=pid, resource_type=resource["resourceType"], **values))
    yield engine, ids
    engine.dispose()


@pytest.fixture(params=["drive", "probe"])
def db(request, stored, registry):
    engine, ids = stored
    return Db(engine, registry, ids, probe=request.param == "probe")


def found(db, rtype: str, qs: str) -> list[str]:
    return sorted(db.search(rtype, qs))


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("code-value-quantity=http://loinc.org|8480-6$gt100", ["sys"]),
        ("code-value-quantity=http://loinc.org|8480-6$lt100", []),
        ("code-value-quantity=8480-6$130|http://unitsofmeasure.org|mm[Hg]", ["sys"]),
        ("component-code-value-quantity=http://loinc.org|8480-6$gt100", ["bp1"]),  # not bp2
        ("component-code-value-quantity=http://loinc.org|8462-4$gt100", ["bp2"]),
        ("component-code-value-quantity=http://loinc.org|8480-6$gt200,http://loinc.org|8462-4$gt100", ["bp2"]),
        ("combo-code-value-quantity=http://loinc.org|8480-6$gt100", ["bp1", "sys"]),
        ("code-value-concept=http://loinc.org|883-9$http://snomed.info/sct|112144000", ["abo"]),
        ("code-value-concept=883-9$999", []),
        ("component-code-value-quantity=http://loinc.org|8480-6$gt100&subject=Patient/p1", ["bp1"]),
    ],
)
def test_composite(db, qs, expected):
    assert found(db, "Observation", qs) == expected


def test_composite_in_has_and_relationship(db):
    assert found(db, "Patient", "_has:Observation:subject:component-code-value-quantity=8480-6$gt100") == ["p1"]
    assert found(db, "DocumentReference", "relationship=DocumentReference/d0$replaces") == ["d1"]
    assert found(db, "DocumentReference", "relationship=DocumentReference/d0$transforms") == []


def test_composite_value_needs_every_component(db):
    with pytest.raises(BadRequest):
        db.search("Observation", "code-value-quantity=8480-6")


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("subject=Patient/p1", ["bp1"]),  # bp2's absolute reference names another server
        ("subject=p1", ["bp1"]),
        ("subject:Patient=p1", ["bp1"]),
        ("patient=Patient/p1", ["bp1"]),
        ("subject=http://other.example/fhir/Patient/p1", ["bp2"]),
        ("patient=http://other.example/fhir/Patient/p1", ["bp2"]),  # resolve() is Patient reads the URL
        ("performer:identifier=http://rpps|123", ["bp1"]),
        ("performer:identifier=123", ["bp1"]),
        ("performer:identifier=http://other|123", []),
        ("subject:Patient.gender=http://hl7.org/fhir/administrative-gender|female", ["glu", "sys"]),
    ],
)
def test_reference(db, qs, expected):
    assert found(db, "Observation", qs) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|111", ["p1"]),
        ("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|333", []),
        ("gender=male", ["p1"]),
        ("gender=http://hl7.org/fhir/administrative-gender|male", ["p1"]),
        ("gender=|male", []),  # the bound system is indexed: the code has one
        ("address-use=http://hl7.org/fhir/address-use|home", ["p1"]),
        ("gender:in=http://hl7.org/fhir/ValueSet/administrative-gender", ["p1", "p2", "p3"]),
        ("gender:not-in=http://hl7.org/fhir/ValueSet/administrative-gender", []),
        ("gender:below=http://hl7.org/fhir/administrative-gender|male", ["p1"]),
    ],
)
def test_token_identifier_and_bound_codes(db, qs, expected):
    assert found(db, "Patient", qs) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("class:in=http://terminology.hl7.org/ValueSet/v3-ActEncounterCode", ["e1", "e2", "e4"]),
        ("class:not-in=http://terminology.hl7.org/ValueSet/v3-ActEncounterCode", ["e3"]),
        ("class:below=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP", ["e1", "e4"]),  # ACUTE is-a IMP
        ("class:above=http://terminology.hl7.org/CodeSystem/v3-ActCode|ACUTE", ["e1", "e4"]),
        ("class:below=http://terminology.hl7.org/CodeSystem/v3-ActCode|_ActEncounterCode", ["e1", "e2", "e4"]),
    ],
)
def test_terminology_modifiers(db, qs, expected):
    assert found(db, "Encounter", qs) == expected


def test_in_a_value_set_of_a_whole_external_system(db):
    assert found(db, "Observation", "code:in=http://hl7.org/fhir/ValueSet/observation-codes") == [
        "abo", "bp1", "bp2", "glu", "sys",
    ]


@pytest.mark.parametrize(
    "qs",
    ["class:in=http://example.org/ValueSet/unknown", "class:below=IMP",
     "class:below=http://snomed.info/sct|404684003", "code:in=http://hl7.org/fhir/ValueSet/clinical-findings"],
)
def test_terminology_questions_we_cannot_answer_are_400(db, qs):
    rtype = "Encounter" if qs.startswith("class") else "Observation"
    with pytest.raises(BadRequest):
        db.search(rtype, qs)


@pytest.mark.parametrize(
    "rtype, qs, expected",
    [
        ("Patient", "_text=dupre", ["p1"]),
        ("Patient", "_text=HELENE lyon", ["p1"]),  # every word, case and accents folded
        ("Patient", "_text=lyo", ["p1"]),  # at a word start
        ("Patient", "_text=yon", []),
        ("Patient", "_text=paris", []),  # p2's address is content, not narrative
        ("Patient", "_content=paris", ["p2"]),
        ("Patient", "_content=paris,lyon", ["p1", "p2"]),
        ("Observation", "_content=systolic", ["bp1", "bp2", "sys"]),
        ("Observation", "_content=sanguin groupe", ["abo"]),
        ("Observation", "_content=8480-6", ["bp1", "bp2", "sys"]),
    ],
)
def test_text_and_content(db, rtype, qs, expected):
    assert found(db, rtype, qs) == expected


@pytest.mark.parametrize(
    "rtype, qs, expected",
    [
        ("Patient", "_list=l1", ["p1"]),
        ("Observation", "_list=l1", ["glu"]),
        ("Patient", "_list=l1,l2", ["p1", "p3"]),
        ("Patient", "_list=nope", []),
        ("Patient", "_list=l1&gender=male", ["p1"]),
    ],
)
def test_list(db, rtype, qs, expected):
    assert found(db, rtype, qs) == expected


def test_list_at_system_level(db):
    assert found(db, None, "_list=l1") == ["glu", "p1"]


@pytest.mark.parametrize(
    "qs, expected",
    [
        (f"_profile={US_CORE}", ["p1"]),
        ("_profile:below=http://hl7.org/fhir/us/core", ["p1"]),
        ("_tag=urn:passerelle:source|hl7v2-adt", ["p1"]),
        ("_tag:not=urn:passerelle:source|hl7v2-adt", ["p2", "p3"]),
        ("_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R", ["p1"]),
        ("_source=urn:passerelle:mllp:adt#MSG1", ["p1"]),
        ("_source:missing=true", ["p2", "p3"]),
    ],
)
def test_common_parameters(db, qs, expected):
    assert found(db, "Patient", qs) == expected
