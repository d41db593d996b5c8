"""Date parameters: ranges compared with the nine prefixes (R4 §3.1.1.4.5–3.1.1.4.6).

Both sides are closed ranges of instants: the search value at its written precision
([2024-01-01T00:00, 2024-12-31T23:59:59.999999] for ``2024``) and the indexed value
(``idx_date.low``/``high``, NULL meaning unbounded, e.g. an open Period). The spec's
definitions, with S the search range and T the target range:

  eq  S contains T          ne  S does not contain T
  gt  T extends after S     lt  T extends before S
  ge  gt or eq              le  lt or eq
  sa  T starts after S      eb  T ends before S
  ap  T overlaps S widened by 10% of the gap between now and the value
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, false, or_, true

from server.search.parse import Criterion
from server.search.parse_values import DateValue, MissingValue, now_utc
from server.search.sql.common import Scope, any_of, has_row, index_alias, missing


def range_predicate(low, high, v: DateValue, *, nullable: bool = True, now: datetime | None = None):
    """``[low, high]`` columns (NULL = unbounded when ``nullable``) against ``v``."""
    no_low = low.is_(None) if nullable else false()
    no_high = high.is_(None) if nullable else false()
    # ``low <= v.high`` is implied (low <= high <= v.high) but bounds the index range scan.
    eq = and_(low >= v.low, low <= v.high, high <= v.high)
    match v.prefix:
        case "eq":
            return eq
        case "ne":
            return or_(no_low, no_high, low < v.low, high > v.high)
        case "gt":
            return or_(no_high, high > v.high)
        case "lt":
            return or_(no_low, low < v.low)
        case "ge":
            return or_(no_high, high > v.high, eq)
        case "le":
            return or_(no_low, low < v.low, eq)
        case "sa":
            return low > v.high
        case "eb":
            return high < v.low
        case "ap":
            margin = abs((now or now_utc()) - v.low) * 0.1
            return and_(or_(no_low, low <= v.high + margin), or_(no_high, high >= v.low - margin))
    return true()


def condition(crit: Criterion, scope: Scope):
    t = index_alias("date")
    if isinstance(crit.values[0], MissingValue):
        return missing(t, scope, crit.code, crit.values[0].missing)
    pred = any_of([range_predicate(t.c.low, t.c.high, v) for v in crit.values])
    return has_row(t, scope, crit.code, pred)


def last_updated_condition(crit: Criterion, scope: Scope):
    """``_lastUpdated`` reads ``resource.last_updated`` (an instant: low = high) directly."""
    if isinstance(crit.values[0], MissingValue):
        return false() if crit.values[0].missing else true()
    col = scope.res.c.last_updated
    return any_of([range_predicate(col, col, v, nullable=False) for v in crit.values])
