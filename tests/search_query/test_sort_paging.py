def test_default_order_is_last_updated_then_pid(db):
    assert db.search("Patient", "") == ["pat1", "pat2", "pat3"]


def test_sort_by_date_both_ways_missing_last(db):
    assert db.search("Patient", "_sort=birthdate") == ["pat2", "pat1", "pat3"]
    assert db.search("Patient", "_sort=-birthdate") == ["pat1", "pat2", "pat3"]


def test_sort_multi_key_descending(db):
    # code ascending (1234-5 < 999-9), ties by date descending (obs3's open end has no
    # highest instant: it sorts with the missing ones), then pid.
    assert db.search("Observation", "_sort=code,-date") == ["obs1", "obs4", "obs3", "obs2", "obs5"]
    assert db.search("Observation", "_sort=-code,-_lastUpdated") == ["obs2", "obs4", "obs3", "obs1", "obs5"]


def test_sort_by_string_number_and_id(db):
    assert db.search("Patient", "_sort=name") == ["pat2", "pat1", "pat3"]  # ann, john (jöhn), jones
    assert db.search("RiskAssessment", "_sort=-probability") == ["ra2", "ra1", "ra3", "ra4"]
    assert db.search("ValueSet", "_sort=-_id") == ["vs4", "vs3", "vs2", "vs1"]


def test_count_and_offset(db):
    assert db.search("Patient", "_count=2") == ["pat1", "pat2"]
    assert db.search("Patient", "_count=2&_offset=2") == ["pat3"]
    assert db.search("Patient", "_count=1&_offset=1", extra=1) == ["pat2", "pat3"]  # probe for a next page
    assert db.search("Patient", "_count=0") == []


def test_count_search(db):
    assert db.count("Patient", "") == 3
    assert db.count("Patient", "name=smith&_count=1&_sort=-name") == 2
    assert db.count("Observation", "subject:Patient.organization.name=acme") == 2
