"""Number parameters (R4 §3.1.1.4.6).

The search value carries its precision: ``100`` means [99.5, 100.5), so ``eq``/``ne``
test the stored value against that interval, while ``gt``/``lt``/``ge``/``le`` compare
with the value exactly ("lt100: values less than exactly 100"). ``sa``/``eb`` compare the
stored value's own precision range, ``ap`` allows 10% of the value (or the precision,
whichever is wider).
"""

from __future__ import annotations

from sqlalchemy import and_, or_, true

from server.search.parse import Criterion
from server.search.parse_values import MissingValue, NumberValue
from server.search.sql.common import Scope, any_of, has_row, index_alias, missing


def value_predicate(t, v: NumberValue):
    """``v`` against a table with ``value``/``low``/``high`` (idx_number, idx_quantity)."""
    val, x, lo, hi = t.c.value, float(v.value), float(v.low), float(v.high)
    match v.prefix:
        case "eq":
            return and_(val >= lo, val < hi)
        case "ne":
            return or_(val < lo, val >= hi)
        case "gt":
            return val > x
        case "lt":
            return val < x
        case "ge":
            return val >= x
        case "le":
            return val <= x
        case "sa":
            return t.c.low > hi
        case "eb":
            return t.c.high < lo
        case "ap":
            margin = max(abs(x) * 0.1, (hi - lo) / 2)
            return and_(val >= x - margin, val <= x + margin)
    return true()


def condition(crit: Criterion, scope: Scope):
    t = index_alias("number")
    if isinstance(crit.values[0], MissingValue):
        return missing(t, scope, crit.code, crit.values[0].missing)
    return has_row(t, scope, crit.code, any_of([value_predicate(t, v) for v in crit.values]))
