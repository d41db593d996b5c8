import pytest


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("subject:Patient.name=smith", ["obs1", "obs2", "obs3"]),  # not obs5: its patient is deleted
        ("subject.name=smith", ["obs1", "obs2", "obs3"]),
        ("subject:Patient.gender=female", ["obs2"]),
        ("subject:Patient.organization.name=acme", ["obs1", "obs3"]),  # two levels
        ("subject:Patient.organization:Organization.name=beta", ["obs2"]),
        ("subject:Patient.organization.name=acme&code=http://loinc.org|1234-5", ["obs1"]),
        ("subject:Patient.birthdate:missing=true", []),  # pat3 has no observation
        ("subject:Patient.name=smith,jones&subject:Patient.name:exact=Smithson", ["obs2"]),
    ],
)
def test_chain(db, qs, expected):
    assert sorted(db.search("Observation", qs)) == expected


@pytest.mark.parametrize(
    "rtype, qs, expected",
    [
        ("Patient", "_has:Observation:subject:code=1234-5", ["pat1"]),
        ("Patient", "_has:Observation:subject:code=999-9,1234-5", ["pat1", "pat2"]),
        ("Patient", "_has:Observation:subject:code=nothing", []),
        ("Patient", "_has:Provenance:target:_id=prov1", []),  # Provenance targets an Observation
        ("Patient", "_has:Observation:subject:_has:Provenance:target:_id=prov1", ["pat1"]),  # nested
        ("Organization", "_has:Patient:organization:_has:Observation:subject:code=999-9", ["org2"]),
        ("Patient", "_has:Observation:subject:subject:Patient.name=ann", ["pat2"]),  # chain inside _has
        ("Patient", "_has:Observation:subject:code=1234-5&gender=female", []),
    ],
)
def test_has(db, rtype, qs, expected):
    assert sorted(db.search(rtype, qs)) == expected
