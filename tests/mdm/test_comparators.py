"""Each comparator, normalization and the INS key check, on French and English identities."""

from __future__ import annotations

import pytest

from server.mdm import blocking
from server.mdm.comparators import birth_date, exact, identifier, name, string
from server.mdm.model import load_models
from server.mdm.normalize import ins_key_ok, name_key, phone


@pytest.mark.parametrize("a, b, level", [
    ("Hélène", "HELENE", 0),  # accents and case
    ("de La Fontaine", "Fontaine", 0),  # particles
    ("Martin-Durand", "Durand Martin", 0),  # hyphen, order
    ("Martin-Durand", "Martin", 1),  # one part of a compound name
    ("Catherine", "Catherline", 1),  # typo
    ("Mohammed", "Muhamad", 2),  # spelling variants
    ("Thompson", "Tomson", 1),
    ("Philippe", "Filipe", 2),  # spelling variant
    ("Dupont", "Lefebvre", 3),
])
def test_name_levels(a, b, level):
    assert name((name_key(a),), (name_key(b),))[0] == level


def test_name_takes_the_best_of_birth_and_used_names():
    assert name((name_key("Moreau"), name_key("Dupré")), (name_key("Dupre"),)) == (0, "dupre")
    assert name((), ("dupre",)) is None


@pytest.mark.parametrize("a, b, level", [
    ("19800304", "19800304", 0),
    ("19800304", "19800403", 1),  # day/month transposed
    ("19800304", "19800305", 2),  # one digit
    ("19800304", "19810305", 3),  # two digits
    ("19800331", "19800401", 3),  # a day apart across months
    ("19800304", "19550112", 4),
    ("1980", "19800304", 2),  # partial date agreeing
    ("1981", "19800304", 4),
])
def test_birth_date_levels(a, b, level):
    assert birth_date((a,), (b,))[0] == level


def test_identifier_compares_within_one_system_only():
    assert identifier(("urn:a|123",), ("urn:a|123",)) == (0, "urn:a|123")
    assert identifier(("urn:a|1234",), ("urn:a|1243",))[0] == 1  # transposition: one edit
    assert identifier(("urn:a|123",), ("urn:b|123",)) is None
    assert identifier(("urn:a|123456",), ("urn:a|999999",))[0] == 3


def test_exact_and_string():
    assert exact(("75011",), ("75012", "75011")) == (0, "75011")
    assert exact(("75011",), ("69001",)) == (1, None)
    assert string(("rue des lilas",), ("rue des lilas",))[0] == 0
    assert string(("rue des lilas",), ("rue des lillas",))[0] == 1
    assert string(("rue des lilas",), ("avenue foch",))[0] == 3


@pytest.mark.parametrize("value, ok", [
    ("280037511200151", True),
    ("280037511200152", False),  # wrong key
    ("185022A00400133", True),  # Corse-du-Sud: 2A counts as 19
    ("185022B00400133", False),  # 2B counts as 18: another key
    ("28003751120015", False),  # too short
])
def test_ins_key(value, ok):
    assert ins_key_ok(value) is ok


def test_phone_forms_agree():
    assert phone("06 12 34 56 78") == phone("+33 6 12 34 56 78") == phone("0033612345678") == "612345678"


def test_ins_with_a_wrong_key_is_not_evidence():
    model = load_models()["Patient"]
    good = model.features({"resourceType": "Patient", "identifier": [
        {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "280037511200151"}]})
    bad = model.features({"resourceType": "Patient", "identifier": [
        {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "280037511200152"}]})
    assert good["national_id"] == ("urn:oid:1.2.250.1.213.1.4.8|280037511200151",)
    assert bad["national_id"] == ()


def test_swapped_given_and_family_names_still_agree():
    model = load_models()["Patient"]
    a = model.features({"resourceType": "Patient", "name": [{"family": "Bernard", "given": ["Thomas"]}],
                        "birthDate": "1990-01-02"})
    b = model.features({"resourceType": "Patient", "name": [{"family": "Thomas", "given": ["Bernard"]}],
                        "birthDate": "1990-01-02"})
    score = model.match(a, b)
    assert {e.field: e.level for e in score.evidence}["family"] == "exact"
    assert set(blocking.keys(a, model.blocking)) & set(blocking.keys(b, model.blocking))


def test_used_name_vs_birth_name():
    model = load_models()["Patient"]
    married = model.features({"resourceType": "Patient", "birthDate": "1975-06-15", "gender": "female", "name": [
        {"use": "official", "family": "Garnier", "given": ["Sophie"]},
        {"use": "usual", "family": "Lambert", "given": ["Sophie"]}]})
    maiden_only = model.features({"resourceType": "Patient", "birthDate": "1975-06-15", "gender": "female",
                                  "name": [{"use": "maiden", "family": "Garnier", "given": ["Sophie"]}]})
    assert model.match(married, maiden_only).grade == "certain"


def test_term_frequency_weakens_common_names():
    model = load_models()["Patient"]
    a = model.features({"resourceType": "Patient", "name": [{"family": "Martin", "given": ["Jean"]}]})
    common = model.match(a, a, lambda field, value: 0.05)
    rare = model.match(a, a, lambda field, value: 0.00001)
    assert rare.weight > common.weight


def test_rules_file_is_checked(tmp_path):
    import json

    from server.mdm.model import Model, load_rules

    rules = load_rules()
    rules["Patient"]["comparisons"][0]["m"] = [0.5, 0.5]
    with pytest.raises(ValueError, match="national_id"):
        Model.from_rules("Patient", rules)
    rules["Patient"]["comparisons"][0]["comparator"] = "soundex-magic"
    with pytest.raises(ValueError, match="unknown comparator"):
        Model.from_rules("Patient", rules)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"Patient": load_rules()["Patient"]}))
    from server.mdm.model import load_models as load

    assert list(load(path)) == ["Patient"]
