"""Quantity parameters -> QuantityIndex (http://hl7.org/fhir/R4/search.html#quantity).

Quantity and its profiles (Age, Duration, Distance, Count, SimpleQuantity): system,
code, unit as written and the value with its implicit precision range (see
``number.py``). Money: system ``urn:iso:std:iso:4217``, code = the currency.

Not yet: Range and SampledData values, and UCUM canonicalisation (mg vs g).
"""

from __future__ import annotations

from server.search.extract.model import QUANTITY_TYPES, infer_type
from server.search.extract.number import precision_range
from server.search.index_rows import QuantityIndex

CURRENCY_SYSTEM = "urn:iso:std:iso:4217"


def rows(code: str, ftype: str | None, value) -> list[QuantityIndex]:
    if not isinstance(value, dict):
        return []
    kind = ftype if ftype in QUANTITY_TYPES or ftype == "Money" else infer_type(value)
    found = precision_range(value.get("value"))
    if found is None:
        return []
    if kind in QUANTITY_TYPES:
        return [QuantityIndex(code, value.get("system"), value.get("code"), value.get("unit"), *found)]
    if kind == "Money":
        currency = value.get("currency")
        return [QuantityIndex(code, CURRENCY_SYSTEM if currency else None, currency, None, *found)]
    return []
