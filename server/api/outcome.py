"""What an interaction answers, before it is rendered to HTTP or to a Bundle entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import UTC

from ..storage.repository import StoredResource


@dataclass
class Answer:
    status: int
    stored: StoredResource | None = None  # the resource concerned (body unless Prefer says otherwise)
    body: dict | bytes | None = None  # an explicit body (Bundle, OperationOutcome, Parameters)
    headers: dict[str, str] = field(default_factory=dict)
    location: str | None = None  # type/id/_history/vid, relative to the base

    def __post_init__(self):
        if self.stored is not None:
            self.headers.setdefault("ETag", self.stored.etag)
            self.headers.setdefault("Last-Modified", http_date(self.stored))


def http_date(stored: StoredResource) -> str:
    return format_datetime(stored.last_updated.replace(tzinfo=UTC), usegmt=True)


def informational(message: str, code: str = "informational") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": code, "diagnostics": message}],
    }
