"""Date prefixes against ranges. pat1's birth instant is 2024-12-31T23:00 (minute precision:
[23:00:00, 23:00:59.999999]); pat2's is the whole day 2023-05-10; pat3 has none."""

import pytest


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("birthdate=2024", ["pat1"]),  # 2024 contains the last hour of 2024
        ("birthdate=eq2024-12", ["pat1"]),
        ("birthdate=2024-12-31", ["pat1"]),
        ("birthdate=2024-12-31T23:00", ["pat1"]),
        ("birthdate=2024-12-31T23:00:30", []),  # a second cannot contain a whole minute
        ("birthdate=2025", []),
        ("birthdate=ne2024", ["pat2"]),
        ("birthdate=gt2024", []),  # nothing of pat1 lies after 2024
        ("birthdate=gt2023", ["pat1"]),
        ("birthdate=ge2024", ["pat1"]),
        ("birthdate=ge2023-05-10", ["pat1", "pat2"]),
        ("birthdate=lt2024", ["pat2"]),
        ("birthdate=lt2025", ["pat1", "pat2"]),
        ("birthdate=le2024", ["pat1", "pat2"]),
        ("birthdate=le2023-05-10", ["pat2"]),
        ("birthdate=sa2023", ["pat1"]),
        ("birthdate=sa2024-12-31T22:59", ["pat1"]),
        ("birthdate=sa2024-12-31T23:00", []),
        ("birthdate=eb2024", ["pat2"]),
        ("birthdate=eb2024-12-31T23:01", ["pat1", "pat2"]),
        ("birthdate=eb2024-12-31T23:00", ["pat2"]),
        ("birthdate=ap2024-12-31", ["pat1"]),
        # 2025-01-01T00:00+01:00 is 2024-12-31T23:00Z ("+" arrives as a space once decoded)
        ("birthdate=2025-01-01T00:00+01:00", ["pat1"]),
        ("birthdate=lt2025-01-01T00:00%2B01:00", ["pat2"]),
        ("birthdate=ge2024,lt2023-06", ["pat1", "pat2"]),  # OR across prefixes
        ("birthdate=ge2023&birthdate=lt2024", ["pat2"]),  # AND: a range
    ],
)
def test_birthdate(db, qs, expected):
    assert sorted(db.search("Patient", qs)) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("date=2024-03", ["obs1"]),  # obs3's open period is not contained
        ("date=gt2030", ["obs3"]),  # ...but extends after anything
        ("date=lt2024-03-02", ["obs2", "obs3", "obs4"]),
        ("date=sa2024-02", ["obs1", "obs3"]),
        ("date=eb2024", ["obs2", "obs4"]),
        ("date=ne2024-03", ["obs2", "obs3", "obs4"]),
        ("date:missing=true", ["obs5"]),
    ],
)
def test_periods(db, qs, expected):
    assert sorted(db.search("Observation", qs)) == expected


@pytest.mark.parametrize(
    "qs, expected",
    [
        ("_lastUpdated=2024-01-01", ["pat1"]),
        ("_lastUpdated=2024-01-01T10:00:00", ["pat1"]),
        ("_lastUpdated=gt2024-01-01", ["pat2", "pat3"]),
        ("_lastUpdated=le2024-01-02", ["pat1", "pat2"]),
        ("_lastUpdated=sa2024-01-02", ["pat3"]),
        ("_lastUpdated=eb2024-01-02", ["pat1"]),
        ("_lastUpdated=ne2024-01", []),
    ],
)
def test_last_updated(db, qs, expected):
    assert sorted(db.search("Patient", qs)) == expected
