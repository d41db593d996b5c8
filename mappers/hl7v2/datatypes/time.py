"""DTM / TS / DT -> FHIR date, dateTime and instant.

v2 writes ``YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]``; FHIR wants a time with minutes,
seconds and an offset, so a time is padded to the second and, written without an
offset, read in the site's time zone (configuration; pure: no clock is read).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

_DTM = re.compile(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?\Z")


def _parts(text: str) -> re.Match:
    text = text.strip()
    m = _DTM.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a v2 date/time (YYYY[MM[DD[HHMM[SS[.S]]]]][+/-ZZZZ])")
    y, mo, d, h, mi, s = (int(g) if g else None for g in m.groups()[:6])
    try:
        datetime(y, mo or 1, d or 1, h or 0, mi or 0, s or 0)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date/time: {exc}") from exc
    if mo is None and d is not None:
        raise ValueError(f"{text!r} is not a valid date/time")
    return m


def date(text: str) -> str | None:
    """FHIR ``date``: as precise as written, up to the day."""
    if not text:
        return None
    y, mo, d = _parts(text).groups()[:3]
    return "-".join(p for p in (y, mo, d) if p)


def date_time(text: str, tz: str = "UTC") -> str | None:
    """FHIR ``dateTime``: a date as written, or a full time with an offset."""
    if not text:
        return None
    m = _parts(text)
    y, mo, d, h, mi, s, frac, off = m.groups()
    if h is None:
        return "-".join(p for p in (y, mo, d) if p)
    return _with_time(y, mo, d, h, mi, s, frac, off, tz)


def instant(text: str, tz: str = "UTC") -> str | None:
    """FHIR ``instant`` (Provenance.recorded): a date/time padded to the second."""
    if not text:
        return None
    y, mo, d, h, mi, s, frac, off = _parts(text).groups()
    return _with_time(y, mo or "01", d or "01", h or "00", mi, s, frac, off, tz)


def _with_time(y, mo, d, h, mi, s, frac, off, tz) -> str:
    mi, s, frac = mi or "00", s or "00", frac or ""
    if off:
        offset = f"{off[:3]}:{off[3:]}"
    else:
        local = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=zone(tz))
        offset = _format_offset(local.utcoffset())
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}{frac}{offset}"


def _format_offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@cache
def zone(name: str) -> tzinfo:
    """UTC needs no time zone database; other names are read from it (system or tzdata)."""
    return timezone.utc if name in ("UTC", "Z") else ZoneInfo(name)
