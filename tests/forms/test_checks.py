"""The checks that keep a misread value from being stored as a fact."""

from __future__ import annotations

import pytest

from mappers.forms.checks import CHECKS, nir_key


def check(kind: str, text: str, fmt: str | None = None):
    """fmt: the date format, or an identifier's mask (none by default)."""
    return CHECKS[kind](text, fmt if fmt is not None else "" if kind == "identifier" else "DD/MM/YYYY")


def test_nir_key_mod_97_with_corsica():
    assert nir_key("1850675123456") == 97 - 1850675123456 % 97
    # Corsica: 2A counts as 19, 2B as 18 in the key
    assert nir_key("185012A123456") == 97 - 1850119123456 % 97
    assert nir_key("185012B123456") == 97 - 1850118123456 % 97
    good = "185012A123456" + f"{nir_key('185012A123456'):02d}"
    printed = " ".join((good[:1], good[1:3], good[3:5], good[5:7], good[7:10], good[10:13], good[13:]))
    assert check("nir", printed).value == good
    assert check("nir", good[:-2] + f"{(int(good[-2:]) + 1) % 97:02d}").problem == "the NIR key (mod 97) does not match"
    assert check("nir", "185012C12345601").problem.startswith("a NIR has 15 characters")
    assert check("nir", "1 85 06 75 123 456").problem.startswith("a NIR has 15 characters")


@pytest.mark.parametrize("kind, text, value", [
    ("rpps", "10100000009", None), ("rpps", "10100000008", "10100000008"),
    ("npi", "1234567893", "1234567893"), ("npi", "1234567890", None),
    ("date", "29/02/2024", "2024-02-29"), ("date", "29/02/2023", None), ("date", "02/29/2024", None),
    ("date", "O3/O4/1950", "1950-04-03"), ("date", "03/04/1850", None),
    ("postcode-fr", "20000", "20000"), ("postcode-fr", "00120", None), ("postcode-fr", "7500", None),
    ("zip-us", "97205", "97205"), ("zip-us", "97205-1234", "97205-1234"), ("zip-us", "9720", None),
    ("phone-fr", "01 23 45 67 89", "01 23 45 67 89"), ("phone-fr", "+33 1 23 45 67 89", "01 23 45 67 89"),
    ("phone-fr", "00 23 45 67 89", None), ("phone-us", "(503) 555-0199", "(503) 555-0199"),
    ("phone-us", "(103) 555-0199", None), ("us-state", "or", "OR"), ("us-state", "XX", None),
    ("gender", "F", "female"), ("gender", "H", "male"), ("gender", "X", None),
    ("name", "Le Gall", "Le Gall"), ("name", "O'Neil", "O'Neil"), ("name", "Jean-Luc", "Jean-Luc"),
    ("name", "Hél3ne", None), ("identifier", "h3170669", "H3170669"), ("identifier", "H3!", None),
])
def test_checks(kind, text, value):
    result = check(kind, text)
    assert result.value == value and (result.problem is None) == (value is not None)


def test_rpps_luhn():
    assert check("rpps", "1000315864 8").value == "10003158648"  # Luhn-valid
    assert check("rpps", "10003158640").problem == "the RPPS key (Luhn) does not match"


def test_allergens_and_drugs_come_from_the_knowledge_base():
    allergies = check("allergens", "pénicillines, aspirine").value
    assert [a.text for a in allergies] == ["pénicillines", "aspirine"]
    assert any(c["code"] == "1191" for c in allergies[1].codings)  # RxNorm aspirin
    assert check("allergens", "aucune").value == []
    assert check("allergens", "None").value == []
    assert check("allergens", "penicilXnes").problem == "'penicilXnes' is not a known allergen"
    assert [d.text for d in check("drugs", "metformin, warfarin").value] == ["metformin", "warfarin"]
    assert check("drugs", "Aetna").problem == "'Aetna' is not a known drug"


@pytest.mark.parametrize("text, value", [
    ("OO0658948", "OO0658948"), ("000658948", "OO0658948"), ("Z11931417", "ZI1931417"),
    ("ZI193I4I7", "ZI1931417"), ("AB12345", None), ("AB12345678", None), ("A#1234567", None),
])
def test_an_identifier_mask_reads_lookalikes_by_position(text, value):
    result = check("identifier", text, "AA9999999")
    assert result.value == value
    if value is None:
        assert result.problem == "this identifier is written AA9999999 (A letter, 9 digit)"
