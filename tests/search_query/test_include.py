def test_include(db):
    assert db.includes("Observation", "_id=obs1&_include=Observation:subject") == (["obs1"], ["pat1"])
    assert db.includes("Observation", "_id=obs4&_include=Observation:subject:Patient") == (["obs4"], [])
    assert db.includes("Observation", "_id=obs4&_include=Observation:subject:Group") == (["obs4"], ["g1"])
    assert db.includes("Observation", "_id=obs5&_include=Observation:subject") == (["obs5"], [])  # deleted


def test_include_wildcard(db):
    assert db.includes("Patient", "_id=pat1&_include=*") == (["pat1"], ["org1", "pr1"])
    assert db.includes("Patient", "_id=pat1&_include=Patient:*") == (["pat1"], ["org1", "pr1"])


def test_include_iterate(db):
    qs = "_id=obs1,obs2&_include=Observation:subject&_include:iterate=Patient:organization"
    assert db.includes("Observation", qs) == (["obs1", "obs2"], ["org1", "org2", "pat1", "pat2"])
    # without :iterate the Patient spec finds nothing among Observations
    qs = "_id=obs1&_include=Observation:subject&_include=Patient:organization"
    assert db.includes("Observation", qs) == (["obs1"], ["pat1"])


def test_revinclude_iterate(db):
    assert db.includes("Patient", "_id=pat1&_revinclude=Observation:subject") == (["pat1"], ["obs1", "obs3"])
    qs = "_id=pat1&_revinclude=Observation:subject&_revinclude:iterate=Provenance:target"
    assert db.includes("Patient", qs) == (["pat1"], ["obs1", "obs3", "prov1"])


def test_iterate_depth_and_limit(db):
    qs = "_id=prov1&_include=Provenance:target&_include:iterate=Observation:subject&_include:iterate=Patient:organization"
    assert db.includes("Provenance", qs) == (["prov1"], ["obs1", "org1", "pat1"])
    assert db.includes("Provenance", qs, max_depth=1) == (["prov1"], ["obs1", "pat1"])
    assert len(db.includes("Provenance", qs, limit=2)[1]) == 2


def test_include_cycles_terminate(db):
    qs = "_id=pat1&_revinclude:iterate=Observation:subject&_include:iterate=Observation:subject"
    assert db.includes("Patient", qs) == (["pat1"], ["obs1", "obs3"])
