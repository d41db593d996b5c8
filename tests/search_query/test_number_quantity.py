"""ra1 = 0.8, ra2 = 100, ra3 = 0.05, ra4 has no probability.
obs1 = 5.4 mg/dL, obs2 = 100 mg, obs3 = 5.45 mg/dL."""

import pytest


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("probability=0.8", ["ra1"]),
        ("probability=0.80", ["ra1"]),  # [0.795, 0.805) still holds 0.8
        ("probability=0.81", []),
        ("probability=100", ["ra2"]),
        ("probability=1e2", ["ra2"]),  # one significant figure: [50, 150)
        ("probability=100.4", []),
        ("probability=ne0.8", ["ra2", "ra3"]),
        ("probability=gt0.5", ["ra1", "ra2"]),
        ("probability=gt0.8", ["ra2"]),
        ("probability=ge0.8", ["ra1", "ra2"]),
        ("probability=lt0.8", ["ra3"]),
        ("probability=le0.8", ["ra1", "ra3"]),
        ("probability=sa1", ["ra2"]),
        ("probability=eb0.5", ["ra3"]),
        ("probability=ap95", ["ra2"]),  # within 10%
        ("probability=ap80", []),
        ("probability=0.05,100", ["ra2", "ra3"]),
        ("probability:missing=true", ["ra4"]),
    ],
)
def test_number(db, qs, expected):
    assert sorted(db.search("RiskAssessment", qs)) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("value-quantity=5.4", ["obs1"]),  # [5.35, 5.45): 5.45 is out
        ("value-quantity=5.4|http://unitsofmeasure.org|mg/dL", ["obs1"]),
        ("value-quantity=5.4|http://other|mg/dL", []),
        ("value-quantity=5.4||mg/dL", ["obs1"]),
        ("value-quantity=5.4||mg", []),
        ("value-quantity=100||mg", ["obs2"]),
        ("value-quantity=gt5|http://unitsofmeasure.org|mg/dL", ["obs1", "obs3"]),
        ("value-quantity=lt10", ["obs1", "obs3"]),
        ("value-quantity=ge5.45", ["obs2", "obs3"]),
        ("value-quantity=ap5.4", ["obs1", "obs3"]),
        ("value-quantity=le100||mg", ["obs2"]),
        ("value-quantity:missing=true", ["obs4", "obs5"]),
    ],
)
def test_quantity(db, qs, expected):
    assert sorted(db.search("Observation", qs)) == expected
