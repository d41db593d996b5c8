"""Quantity parameters: ``[prefix]number[|system|code]`` (R4 §3.1.1.4.9).

``5.4|http://unitsofmeasure.org|mg`` matches system and code; ``5.4||mg`` matches the
code or the unit as written; ``5.4`` any unit. Values are compared as stored: no UCUM
canonicalisation (``5.4|…|g`` does not find ``5400 mg``).
"""

from __future__ import annotations

from sqlalchemy import or_

from server.search.parse import Criterion
from server.search.parse_values import MissingValue, QuantityValue
from server.search.sql.common import Scope, all_of, any_of, has_row, index_alias, missing
from server.search.sql.number import value_predicate


def predicate(t, v: QuantityValue):
    unit = None
    if v.system:
        unit = all_of(t.c.system == v.system, (t.c.code == v.code) if v.code else None)
    elif v.code:
        unit = or_(t.c.code == v.code, t.c.unit == v.code)
    return all_of(value_predicate(t, v.number), unit)


def condition(crit: Criterion, scope: Scope):
    t = index_alias("quantity")
    if isinstance(crit.values[0], MissingValue):
        return missing(t, scope, crit.code, crit.values[0].missing)
    return has_row(t, scope, crit.code, any_of([predicate(t, v) for v in crit.values]))
