"""Survivorship strategies (server.mdm.survivorship): what a golden record shows of its sources."""

from __future__ import annotations

import json

import pytest

from server.mdm.model import load_models
from server.mdm.survivorship import Survivorship

FEED = "urn:oid:1.2.250.1.71.4.2.7"  # the ADT feed: trusted
FORMS = "http://passerelle.example/forms"


def source(updated: str, system: str | None = None, **elements) -> dict:
    meta = {"lastUpdated": updated, **({"source": f"{system}#MSG{updated[-2:]}"} if system else {})}
    return {"resourceType": "Patient", "meta": meta, **elements}


def shown(rules: dict, *sources) -> dict:
    golden = {"resourceType": "Patient"}
    Survivorship.from_rules("Patient", rules).apply(golden, sources)
    return golden


def test_most_recent_takes_the_last_written_source():
    golden = shown({"elements": {"address": "most-recent"}},
                   source("2026-01-02T00:00:00Z", address=[{"city": "Lyon"}]),
                   source("2026-03-01T00:00:00Z", address=[{"city": "Paris"}]),
                   source("2026-02-01T00:00:00Z", address=[{"city": "Nantes"}]))
    assert golden["address"] == [{"city": "Paris"}]


def test_most_trusted_ranks_by_sending_system_then_recency():
    rules = {"elements": {"name": "most-trusted"}, "trust": {FEED: 3, FORMS: 1}}
    golden = shown(rules, source("2026-01-01T00:00:00Z", FEED, name=[{"family": "Dupré"}]),
                   source("2026-05-01T00:00:00Z", FORMS, name=[{"family": "Dupre"}]),
                   source("2026-06-01T00:00:00Z", name=[{"family": "DUPRE"}]))
    assert golden["name"] == [{"family": "Dupré"}]  # the feed's, though older
    golden = shown(rules, source("2026-01-01T00:00:00Z", FEED, name=[{"family": "Dupré"}]),
                   source("2026-02-01T00:00:00Z", FEED, name=[{"family": "Dupré-Moreau"}]))
    assert golden["name"] == [{"family": "Dupré-Moreau"}]  # equally trusted: the most recent


def test_most_frequent_outvotes_a_lone_typo():
    rules = {"elements": {"birthDate": "most-frequent"}, "trust": {FORMS: 1}}
    golden = shown(rules, source("2026-01-01T00:00:00Z", birthDate="1980-03-04"),
                   source("2026-02-01T00:00:00Z", birthDate="1980-03-04"),
                   source("2026-03-01T00:00:00Z", birthDate="1980-04-03"))
    assert golden["birthDate"] == "1980-03-04"
    # A tie goes to the more trusted source.
    golden = shown(rules, source("2026-01-01T00:00:00Z", FORMS, birthDate="1980-03-04"),
                   source("2026-03-01T00:00:00Z", birthDate="1980-04-03"))
    assert golden["birthDate"] == "1980-03-04"


def test_union_keeps_every_distinct_entry_most_recent_first():
    golden = shown({"elements": {"identifier": "union", "telecom": "union"}},
                   source("2026-01-01T00:00:00Z", identifier=[{"system": "urn:a", "value": "1"}],
                          telecom=[{"system": "phone", "value": "0612"}]),
                   source("2026-02-01T00:00:00Z", identifier=[{"system": "urn:b", "value": "2"},
                                                              {"system": "urn:a", "value": "1"}]))
    assert golden["identifier"] == [{"system": "urn:b", "value": "2"}, {"system": "urn:a", "value": "1"}]
    assert golden["telecom"] == [{"system": "phone", "value": "0612"}]


def test_sources_without_the_element_do_not_vote_and_unlisted_elements_are_not_copied():
    golden = shown({"elements": {"gender": "most-recent"}},
                   source("2026-01-01T00:00:00Z", gender="female", maritalStatus={"text": "M"}),
                   source("2026-02-01T00:00:00Z"))
    assert golden == {"resourceType": "Patient", "gender": "female"}


def test_a_bad_strategy_is_refused_with_its_element_named(tmp_path):
    rules = json.loads(open("server/mdm/rules/default.json", encoding="utf-8").read())
    rules["Patient"]["golden"]["elements"]["name"] = "loudest"
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    with pytest.raises(ValueError, match=r"Patient\.golden\.elements\.name: unknown strategy 'loudest'"):
        load_models(path)


def test_the_shipped_rules_keep_identifiers_off_golden_records():
    for model in load_models().values():
        assert "identifier" not in model.survivorship.elements
