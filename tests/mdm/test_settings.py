"""PASSERELLE_MDM and PASSERELLE_MDM_RULES."""

from __future__ import annotations

import json

import pytest

from server.app import build_context
from server.config import Settings
from server.mdm.listener import mdm_of
from server.mdm.model import load_rules


def _patients(ctx) -> list[dict]:
    from sqlalchemy import text

    with ctx.store.engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT fhir_id FROM resource WHERE resource_type='Patient'"))]


def test_matching_off_writes_no_golden_record(tmp_path):
    ctx = build_context(Settings(database_url=f"sqlite:///{tmp_path / 'off.db'}", mdm="off"))
    with ctx.store.write() as uow:
        stored = uow.create({"resourceType": "Patient", "name": [{"family": "Dupré"}]})
    assert _patients(ctx) == [stored.id]
    assert "link" not in stored.resource()
    from server.errors import NotFound

    with pytest.raises(NotFound, match="PASSERELLE_MDM=off"):
        mdm_of(ctx)
    ctx.store.engine.dispose()


def test_a_site_rules_file_changes_the_decision(tmp_path):
    rules = load_rules()
    rules["Patient"]["thresholds"] = {"certain": 0.999999999, "probable": 0.99, "possible": 0.5}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    ctx = build_context(Settings(database_url=f"sqlite:///{tmp_path / 'strict.db'}", mdm_rules=str(path)))
    person = {"resourceType": "Patient", "name": [{"family": "Dupré", "given": ["Hélène"]}], "gender": "female",
              "birthDate": "1980-03-04"}
    with ctx.store.write() as uow:
        first = uow.create(dict(person)).resource()
    with ctx.store.write() as uow:
        second = uow.create(dict(person)).resource()
    # Name, birth date and sex alone are no longer "certain" here: two golden records, one review.
    assert first["link"][0]["other"] != second["link"][0]["other"]
    with ctx.store.read() as uow:
        from server.search.service import find_ids

        assert len(find_ids(uow, "Task", [("_tag", "urn:passerelle:mdm|match-review")], limit=10)) == 1
    ctx.store.engine.dispose()


def test_bad_setting_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PASSERELLE_MDM"):
        build_context(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", mdm="maybe"))
