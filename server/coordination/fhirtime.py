"""FHIR dateTime/instant values <-> aware UTC datetimes (scheduling and coverage dates)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ..errors import BadRequest


def parse_instant(value: str, *, expression: str) -> datetime:
    """An aware UTC datetime; a date alone means its midnight UTC. BadRequest names the element."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise BadRequest(f"{value!r} is not a FHIR dateTime", expression=expression) from None
    if moment.tzinfo is None:
        raise BadRequest(f"{value!r} needs a time zone (e.g. Z)", expression=expression)
    return moment.astimezone(UTC)


def format_instant(moment: datetime) -> str:
    """2026-12-01T09:00:00Z (seconds precision: slots and appointments need no more)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_aware(naive_utc: datetime) -> datetime:
    """The store's clock (naive UTC, ``uow.now``) as an aware datetime."""
    return naive_utc.replace(tzinfo=UTC)
