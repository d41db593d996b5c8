"""Blocking keys: only records sharing a key are compared.

Keys are computed from the features when a record is written (``index.py`` stores them)
and looked up for a new record: a handful of index probes instead of a scan. Each
kind of key forgives some errors the others do not (a typo in the name, a transposed
birth date, swapped given and family names); the rules file picks the kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .features import Features
from .normalize import phonetic


def _codes(features: Features, field: str) -> list[str]:
    return sorted({phonetic(v.replace(" ", "")) for v in features.get(field, ()) if v} - {""})


def _identifier(f: Features) -> Iterable[str]:
    return (f"id:{v}" for v in (*f.get("national_id", ()), *f.get("identifier", ())))


def _name_birth(f: Features) -> Iterable[str]:
    # Given or family code with the birth date: survives a typo in the other name and a swap.
    for birth in f.get("birth_date", ()):
        for code in {*_codes(f, "family"), *_codes(f, "given")}:
            yield f"nb:{code}|{birth}"


def _name_pair(f: Features) -> Iterable[str]:
    # Both names' codes, order-free: survives any birth date error and a swap.
    for family in _codes(f, "family"):
        for given in _codes(f, "given"):
            yield "np:" + "|".join(sorted((family, given)))


def _birth_postcode(f: Features) -> Iterable[str]:
    for birth in f.get("birth_date", ()):
        for postcode in f.get("postcode", ()):
            yield f"bp:{birth}|{postcode}"


def _name_postcode(f: Features) -> Iterable[str]:
    for postcode in f.get("postcode", ()):
        for code in {*_codes(f, "family"), *_codes(f, "given")}:
            yield f"nz:{code}|{postcode}"


def _birth_house(f: Features) -> Iterable[str]:
    # Birth date and house number: survives typos in both names and a wrong postcode.
    for birth in f.get("birth_date", ()):
        for number in f.get("house_number", ()):
            yield f"bh:{birth}|{number}"


def _phone(f: Features) -> Iterable[str]:
    return (f"ph:{v}" for v in f.get("phone", ()) if len(v) >= 6)


def _email(f: Features) -> Iterable[str]:
    return (f"em:{v}" for v in f.get("email", ()))


KINDS: dict[str, Callable[[Features], Iterable[str]]] = {
    "identifier": _identifier,
    "name-birth": _name_birth,
    "name-pair": _name_pair,
    "birth-postcode": _birth_postcode,
    "name-postcode": _name_postcode,
    "birth-house": _birth_house,
    "phone": _phone,
    "email": _email,
}

_KEY_LIMIT = 200  # the key column's width


def keys(features: Features, kinds: list[str]) -> list[str]:
    out: dict[str, None] = {}
    for kind in kinds:
        for key in KINDS[kind](features):
            out[key[:_KEY_LIMIT]] = None
    return list(out)


def term_keys(features: Features, fields: Iterable[str]) -> list[str]:
    """Keys that count how many records carry a value (term-frequency adjustment)."""
    return [f"tf:{field}:{value}"[:_KEY_LIMIT] for field in fields for value in features.get(field, ())]
