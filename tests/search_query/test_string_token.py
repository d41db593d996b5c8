import pytest

from server.errors import BadRequest


def ids(db, rtype, qs):
    return sorted(db.search(rtype, qs))


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("name=smith", ["pat1", "pat2"]),  # starts-with; pat4 is deleted
        ("name=SMITH", ["pat1", "pat2"]),  # case-insensitive
        ("name=john", ["pat1"]),  # accent-insensitive ("Jöhn")
        ("name=jöhn", ["pat1"]),
        ("name=mith", []),
        ("name:exact=Smith", ["pat1"]),
        ("name:exact=smith", []),
        ("name:exact=Jöhn", ["pat1"]),
        ("name:contains=MITH", ["pat1", "pat2"]),
        ("name:contains=50%", []),  # LIKE wildcards are escaped
        ("name=smith,jones", ["pat1", "pat2", "pat3"]),  # OR
        ("name=smith&name=ann", ["pat2"]),  # AND
        ("name:missing=false", ["pat1", "pat2", "pat3"]),
        ("birthdate:missing=true", ["pat3"]),
    ],
)
def test_string(db, qs, expected):
    assert ids(db, "Patient", qs) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("gender=male", ["pat1"]),
        ("gender=http://hl7.org/fhir/administrative-gender|male", ["pat1"]),
        ("gender=http://other|male", []),
        ("gender=|other", []),  # "|code": the code without a system; pat3's has one
        ("identifier=|333", ["pat3"]),
        ("identifier=http://hosp/mrn|", ["pat1", "pat2"]),
        ("identifier=111,222", ["pat1", "pat2"]),
        ("gender:not=male", ["pat2", "pat3"]),
        ("gender:not=male,female", ["pat3"]),
        ("active:not=true", ["pat2", "pat3"]),  # :not includes resources without the element
        ("active:missing=true", ["pat2", "pat3"]),
        ("identifier:text=medical", ["pat1"]),
        ("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|111", ["pat1"]),
        ("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|222", []),
        ("_id=pat1,pat3", ["pat1", "pat3"]),
        ("_id=pat4", []),
        ("_id:not=pat1", ["pat2", "pat3"]),
    ],
)
def test_token(db, qs, expected):
    assert ids(db, "Patient", qs) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("code=1234-5", ["obs1", "obs3", "obs4"]),
        ("code=http://loinc.org|1234-5", ["obs1", "obs4"]),
        ("code:text=glucose", ["obs1"]),
        ("code:text=blood", ["obs1"]),  # any word of the text
        ("code:text=lucose", []),
        ("code:not=http://loinc.org|1234-5", ["obs2", "obs3", "obs5"]),
    ],
)
def test_token_codes(db, qs, expected):
    assert ids(db, "Observation", qs) == expected


def test_system_level(db):
    assert ids(db, None, "_type=Patient,Organization&name=acme,jones") == ["org1", "pat3"]
    assert ids(db, None, "_id=pat1,org2") == ["org2", "pat1"]
    assert ids(db, None, "_lastUpdated=2024-01-01") == ["pat1"]


def test_bad_value_names_the_parameter(db):
    with pytest.raises(BadRequest) as e:
        db.search("Patient", "birthdate=not-a-date")
    assert e.value.expression == ["birthdate"]
