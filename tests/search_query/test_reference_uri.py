import pytest


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("subject=Patient/pat1", ["obs1", "obs3"]),
        ("subject=pat1", ["obs1", "obs3"]),
        ("subject:Patient=pat1", ["obs1", "obs3"]),
        ("subject:Group=pat1", []),
        ("subject=Group/g1", ["obs4"]),
        ("subject=Patient/pat1,Group/g1", ["obs1", "obs3", "obs4"]),
        ("subject=Patient/pat1/_history/3", []),  # no versioned reference stored
        ("performer=http://other.example/fhir/Practitioner/9", ["obs5"]),
        ("subject:missing=true", []),
        ("performer:missing=true", ["obs1", "obs2", "obs3", "obs4"]),
    ],
)
def test_reference(db, qs, expected):
    assert sorted(db.search("Observation", qs)) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("url=http://acme.org/fhir/ValueSet/123", ["vs1"]),
        ("url=http://acme.org/fhir/ValueSet", []),
        ("url:below=http://acme.org/fhir/", ["vs1", "vs2"]),
        ("url:below=http://acme.org", ["vs1", "vs2", "vs4"]),
        ("url:above=http://acme.org/fhir/ValueSet/123/_history/5", ["vs1", "vs4"]),
        ("url:above=http://other.org/ValueSet/9", ["vs3"]),
    ],
)
def test_uri(db, qs, expected):
    assert sorted(db.search("ValueSet", qs)) == expected
