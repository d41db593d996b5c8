"""Number parameters -> NumberIndex (http://hl7.org/fhir/R4/search.html#number).

A decimal carries an implicit precision: ``1.5`` stands for [1.45, 1.55), ``100`` for
[99.5, 100.5), ``1e2`` for [50, 150). The range is half a unit of the last written
digit either side (low inclusive, high exclusive). JSON parsed into floats loses
trailing zeros (``1.50`` reads as ``1.5``); parse with ``Decimal`` to keep them.

Not yet: Range values (e.g. RiskAssessment.prediction.probability as a Range).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from server.search.index_rows import NumberIndex


def precision_range(value) -> tuple[float, float, float] | None:
    """(value, low, high) for a JSON number (int, float or Decimal); None if not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    # Keyed by the written form: Decimal("1.50") == Decimal("1.5") but their ranges differ.
    return _range(str(value) if isinstance(value, Decimal) else repr(value))


@lru_cache(maxsize=8192)  # measured values repeat (vital signs, lab units); Decimal is slow
def _range(text: str) -> tuple[float, float, float] | None:
    try:
        exact = Decimal(text)
        exponent = exact.as_tuple().exponent
        if not isinstance(exponent, int):  # NaN, Infinity
            return None
        half = Decimal(5).scaleb(exponent - 1)
    except InvalidOperation:
        return None
    return float(exact), float(exact - half), float(exact + half)


def rows(code: str, ftype: str | None, value) -> list[NumberIndex]:
    found = precision_range(value)
    return [NumberIndex(code, *found)] if found else []
