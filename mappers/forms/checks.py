"""Checks a field's read text must pass before it may be stored as a fact.

Each check takes the OCR text (and the template's date format) and returns a ``Checked``:
the value in its stored form, or the problem that sends the field to review. The checks
are what catch an OCR misread that the engine was confident about: check keys (NIR/INS mod
97, RPPS and NPI Luhn), calendar dates, postcode and phone number plans, and names of
allergens and drugs the knowledge base knows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from . import vocabulary


@dataclass(frozen=True)
class Checked:
    value: object = None  # the stored form: str, ISO date, list of vocabulary.Concept...
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _fail(problem: str) -> Checked:
    return Checked(None, problem)


_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1"})


def _digits(text: str, keep: str = "") -> str:
    """The text with separators dropped and the letters OCR confuses with digits mapped."""
    return "".join(c for c in text.translate(_DIGIT_LOOKALIKES) if c.isdigit() or c in keep)


def _squash(text: str) -> str:
    return " ".join(text.split())


_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")


def check_name(text: str, _fmt: str) -> Checked:
    value = _squash(text).replace(" - ", "-")
    if not value:
        return _fail("empty")
    if not _NAME.match(value):
        return _fail("a name has letters, spaces, hyphens and apostrophes only")
    return Checked(value)


def check_text(text: str, _fmt: str) -> Checked:
    value = _squash(text)
    return Checked(value) if value else _fail("empty")


_AS_LETTER = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z"})
_AS_DIGIT = str.maketrans({"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "S": "5", "B": "8", "Z": "2"})


def check_identifier(text: str, mask: str) -> Checked:
    """Letters, digits and hyphens; with a mask, the value must fit it, and in each position
    the mask reads a character OCR confuses (O/0, I/1, S/5, B/8, Z/2) as what it must be."""
    value = re.sub(r"\s+", "", text).upper()
    if not mask:
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{3,24}", value):
            return _fail("an identifier has 4 to 25 letters, digits or hyphens")
        return Checked(value)
    if len(value) != len(mask):
        return _fail(f"this identifier is written {mask} (A letter, 9 digit)")
    fixed = []
    for c, m in zip(value, mask):
        c = c.translate(_AS_LETTER) if m == "A" else c.translate(_AS_DIGIT) if m == "9" else c
        if not (m == "A" and c.isalpha() or m == "9" and c.isdigit() or m == "*" and c.isalnum() or c == m):
            return _fail(f"this identifier is written {mask} (A letter, 9 digit)")
        fixed.append(c)
    return Checked("".join(fixed))


def check_date(text: str, fmt: str) -> Checked:
    parts = re.split(r"[\s/.\-]+", _digits(text, keep="/.- ").strip(" /.-"))
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return _fail(f"a date is written {fmt}")
    order = {"DD/MM/YYYY": (2, 1, 0), "MM/DD/YYYY": (2, 0, 1), "YYYY-MM-DD": (0, 1, 2)}[fmt]
    year, month, day = (parts[i] for i in order)
    if len(year) != 4 or len(month) > 2 or len(day) > 2:
        return _fail(f"a date is written {fmt}")
    try:
        value = date(int(year), int(month), int(day))
    except ValueError:
        return _fail("not a calendar date")
    if not 1890 <= value.year <= 2100:
        return _fail("year out of range")
    return Checked(value.isoformat())


GENDERS = {"M": "male", "H": "male", "F": "female"}


def check_gender(text: str, _fmt: str) -> Checked:
    value = _squash(text).upper()
    return Checked(GENDERS[value]) if value in GENDERS else _fail("sex is M or F")


def nir_key(first13: str) -> int:
    """The NIR/INS control key: 97 - (number mod 97), Corsica's 2A/2B counted as 19/18."""
    department = {"2A": "19", "2B": "18"}.get(first13[5:7].upper(), first13[5:7])
    return 97 - int(first13[:5] + department + first13[7:]) % 97


def check_nir(text: str, _fmt: str) -> Checked:
    value = re.sub(r"[\s.\-]+", "", text).upper()
    value = value[:5].translate(_DIGIT_LOOKALIKES) + value[5:7] + value[7:].translate(_DIGIT_LOOKALIKES)
    if not re.fullmatch(r"[12378]\d{4}(?:\d{2}|2A|2B)\d{8}", value):
        return _fail("a NIR has 15 characters: sex, year, month, department (2A/2B in Corsica), 6 digits, key")
    if int(value[13:]) != nir_key(value[:13]):
        return _fail("the NIR key (mod 97) does not match")
    return Checked(value)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_rpps(text: str, _fmt: str) -> Checked:
    value = _digits(text)
    if len(value) != 11:
        return _fail("an RPPS number has 11 digits")
    return Checked(value) if luhn_ok(value) else _fail("the RPPS key (Luhn) does not match")


def check_npi(text: str, _fmt: str) -> Checked:
    value = _digits(text)
    if len(value) != 10:
        return _fail("an NPI has 10 digits")
    return Checked(value) if luhn_ok("80840" + value) else _fail("the NPI check digit does not match")


def check_postcode_fr(text: str, _fmt: str) -> Checked:
    value = _digits(text)
    if len(value) != 5 or not ("01" <= value[:2] <= "95" or value[:2] == "97" or value[:2] == "98"):
        return _fail("a French postcode has 5 digits and starts with a department")
    return Checked(value)


def check_zip_us(text: str, _fmt: str) -> Checked:
    value = _digits(text, keep="-")
    if not re.fullmatch(r"\d{5}(?:-\d{4})?", value):
        return _fail("a ZIP code is 5 digits (or ZIP+4)")
    return Checked(value)


US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI".split())


def check_us_state(text: str, _fmt: str) -> Checked:
    value = _squash(text).upper()
    return Checked(value) if value in US_STATES else _fail("not a USPS state code")


def check_phone_fr(text: str, _fmt: str) -> Checked:
    value = _digits(text, keep="+")
    if value.startswith("+33"):
        value = "0" + value[3:]
    if not re.fullmatch(r"0[1-9]\d{8}", value):
        return _fail("a French phone number has 10 digits and starts with 0")
    return Checked(" ".join(value[i:i + 2] for i in range(0, 10, 2)))


def check_phone_us(text: str, _fmt: str) -> Checked:
    value = _digits(text)
    if len(value) == 11 and value.startswith("1"):
        value = value[1:]
    if not re.fullmatch(r"[2-9]\d{2}[2-9]\d{6}", value):
        return _fail("a US phone number has 10 digits (NANP)")
    return Checked(f"({value[:3]}) {value[3:6]}-{value[6:]}")


NOTHING = frozenset({"aucune", "aucun", "neant", "none", "nkda", "nka", "no known allergies"})


def _vocabulary_list(text: str, find: Callable[[str], object | None], kind: str) -> Checked:
    items = [i.strip() for i in re.split(r"[,;]", text) if i.strip()]
    if not items:
        return _fail("empty")
    if len(items) == 1 and vocabulary.fold(items[0]) in NOTHING:
        return Checked([])
    found = []
    for item in items:
        concept = find(item)
        if concept is None:
            return _fail(f"{item!r} is not a known {kind}")
        found.append(concept)
    return Checked(found)


def check_allergens(text: str, _fmt: str) -> Checked:
    return _vocabulary_list(text, vocabulary.allergen, "allergen")


def check_drugs(text: str, _fmt: str) -> Checked:
    return _vocabulary_list(text, vocabulary.drug, "drug")


TICKED_SEPARATOR = " + "  # between the labels of several ticked boxes (one reading's text)


def check_tick(text: str, options) -> Checked:
    """A tick-box item: exactly one box, named by its printed label or its answer (the
    stored form: true/false for a boolean item, the answerOption code for a choice)."""
    names = [n.strip() for n in text.split(TICKED_SEPARATOR.strip()) if n.strip()]
    if not names:
        return _fail("no box ticked")
    if len(names) > 1:
        return _fail("more than one box ticked")
    wanted = vocabulary.fold(names[0])
    for option in options:
        spellings = {vocabulary.fold(option.label), vocabulary.fold(str(option.answer))}
        if wanted in spellings:
            return Checked(option.answer)
    return _fail(f"{names[0]!r} is none of the boxes ({', '.join(o.label for o in options)})")


# Checks a misread value (almost) never passes: a check key (mod 97 catches every single
# wrong digit and every swap of two), or a name the knowledge base must know. A value that
# passes one of these needs less of the engine's confidence (measured: tests/bench/forms.py).
KEYED = frozenset({"nir", "rpps", "npi", "allergens", "drugs", "gender"})
KEYED_MIN_CONFIDENCE = 0.5

CHECKS: dict[str, Callable[[str, str], Checked]] = {
    "name": check_name, "text": check_text, "identifier": check_identifier, "date": check_date,
    "gender": check_gender, "nir": check_nir, "rpps": check_rpps, "npi": check_npi,
    "postcode-fr": check_postcode_fr, "zip-us": check_zip_us, "us-state": check_us_state,
    "phone-fr": check_phone_fr, "phone-us": check_phone_us, "allergens": check_allergens, "drugs": check_drugs,
}
