"""NM / CQ / SN parts -> FHIR decimal, Quantity, Range.

Decimals stay ``Decimal`` so that their written precision survives (``72.50``); serialize
the Bundle with ``server.jsonio.dumps`` (or any encoder that writes a Decimal verbatim).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..message import Rep

UCUM = "http://unitsofmeasure.org"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)\Z")


def decimal(text: str) -> Decimal:
    text = text.strip()
    if not _NUMBER.match(text):
        raise ValueError(f"{text!r} is not a number")
    try:
        return Decimal(text.lstrip("+"))
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a number") from exc


def json_number(value: Decimal) -> int | Decimal:
    """An integer written without a point stays an int; anything else a Decimal."""
    text = str(value)
    return int(value) if "." not in text and "E" not in text else value


def quantity(number: str, unit: Rep | None) -> dict:
    """A number with its unit (CWE: UCUM code, text, coding system)."""
    out: dict = {"value": json_number(decimal(number))}
    if unit is not None and not unit.empty():
        out["unit"] = unit.get(2) or unit.get(1)
        system = unit.get(3)
        if system.upper() in ("UCUM", "UUM", "ANS+") or (not system and unit.get(1)):
            out["system"] = UCUM
            out["code"] = unit.get(1)
    return out


def range_(low: str, high: str, unit: Rep | None) -> dict:
    out = {}
    if low:
        out["low"] = quantity(low, unit)
    if high:
        out["high"] = quantity(high, unit)
    return out
