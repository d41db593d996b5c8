"""Date parameters -> DateIndex (http://hl7.org/fhir/R4/search.html#date).

A FHIR date is a range set by its precision: ``2024`` covers 2024-01-01T00:00:00 to
2024-12-31T23:59:59.999999; ``2024-03-05T10:00:00+01:00`` the whole second
09:00:00..09:00:00.999999 UTC. ``high`` is inclusive (the last microsecond covered).
Times with an offset are converted to naive UTC; dates and times without one are
taken as UTC. Period -> [start's low, end's high] (a missing side is unbounded);
Timing -> from its earliest to its latest event (and repeat.boundsPeriod).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from server.search.index_rows import DateIndex

_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?)?)?"
)
_TICK = timedelta(microseconds=1)
_DATE_TYPES = frozenset({"date", "dateTime", "instant", "string"})


def _clamp(moment: datetime, shift: timedelta) -> datetime:
    try:
        return moment - shift
    except OverflowError:
        return datetime.min if shift > timedelta(0) else datetime.max


def date_range(text: str) -> tuple[datetime, datetime] | None:
    """The instants ``text`` covers, as naive UTC (low, high inclusive); None if not a date."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if month is None:
            low = datetime(int(year), 1, 1)
            high = _next(low, years=1)
        elif day is None:
            low = datetime(int(year), int(month), 1)
            high = _next(low, months=1)
        elif hour is None:
            low = datetime(int(year), int(month), int(day))
            high = _next(low, days=1)
        else:
            micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
            low = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
            if second is None:
                step = timedelta(minutes=1)
            elif not fraction:
                step = timedelta(seconds=1)
            else:
                step = timedelta(microseconds=10 ** max(0, 6 - len(fraction)))
            high = _next(low, step=step)
    except ValueError:  # 2024-02-30, 25:00...
        return None
    if hour is not None and zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        shift = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        low, high = _clamp(low, shift), _clamp(high, shift)
    return low, high


def _next(low: datetime, *, years: int = 0, months: int = 0, days: int = 0, step: timedelta | None = None) -> datetime:
    """Last microsecond before the next year / month / day / step after ``low``."""
    try:
        if years:
            nxt = low.replace(year=low.year + 1)
        elif months:
            nxt = low.replace(year=low.year + low.month // 12, month=low.month % 12 + 1)
        else:
            nxt = low + (step or timedelta(days=days))
    except (ValueError, OverflowError):  # past year 9999
        return datetime.max
    return nxt - _TICK


def _period(value: dict) -> tuple[datetime | None, datetime | None] | None:
    start = date_range(value["start"]) if isinstance(value.get("start"), str) else None
    end = date_range(value["end"]) if isinstance(value.get("end"), str) else None
    if start is None and end is None:
        return None
    return (start[0] if start else None), (end[1] if end else None)


def _timing(value: dict) -> tuple[datetime | None, datetime | None] | None:
    ranges = [r for e in value.get("event") or () if isinstance(e, str) and (r := date_range(e))]
    bounds = (value.get("repeat") or {}).get("boundsPeriod")
    if isinstance(bounds, dict) and (period := _period(bounds)):
        ranges.append(period)
    if not ranges:
        return None
    lows, highs = [r[0] for r in ranges], [r[1] for r in ranges]
    return (None if None in lows else min(lows)), (None if None in highs else max(highs))


def rows(code: str, ftype: str | None, value) -> list[DateIndex]:
    if isinstance(value, str):
        if ftype not in _DATE_TYPES and ftype is not None:
            return []
        found = date_range(value)
    elif isinstance(value, dict):
        if ftype == "Period" or (ftype is None and ("start" in value or "end" in value)):
            found = _period(value)
        elif ftype == "Timing" or (ftype is None and ("event" in value or "repeat" in value)):
            found = _timing(value)
        else:
            found = None
    else:
        found = None
    return [DateIndex(code, found[0], found[1])] if found else []
