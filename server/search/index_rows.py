"""Typed search-index rows: what extraction produces and storage writes.

One dataclass per SearchParameter type (HAPI FHIR's layout: one index table per
type). Extraction (``server.search.extract``) turns a resource into a list of these;
the repository writes them into the matching ``idx_*`` table in the same database
transaction as the resource version. All datetimes are naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StringIndex:
    param: str
    value: str  # normalized: accents stripped, case-folded (search default and :contains)
    exact: str  # as written (for :exact)


@dataclass(frozen=True, slots=True)
class TokenIndex:
    param: str
    system: str | None
    code: str | None
    text: str | None = None  # display / CodeableConcept.text / Identifier.type.text (for :text)


@dataclass(frozen=True, slots=True)
class DateIndex:
    param: str
    low: datetime | None  # first instant covered (None: unbounded)
    high: datetime | None  # last instant covered, inclusive (None: unbounded)


@dataclass(frozen=True, slots=True)
class NumberIndex:
    """``low`` inclusive, ``high`` exclusive: ``1.5`` is stored as [1.45, 1.55) (same in QuantityIndex)."""

    param: str
    value: float
    low: float  # implicit precision range of the stored value
    high: float


@dataclass(frozen=True, slots=True)
class QuantityIndex:
    param: str
    system: str | None
    code: str | None
    unit: str | None
    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class ReferenceIndex:
    """``Patient/1`` -> type + id; an absolute URL -> ``url``, plus type + id when it ends in
    ``Type/id``; a canonical -> ``url`` without its ``|version`` (in ``target_version``)."""

    param: str
    target_type: str | None  # "Patient" for "Patient/123"
    target_id: str | None  # "123"
    target_version: str | None = None  # "2" for "Patient/123/_history/2"
    url: str | None = None  # absolute or canonical URL, when the reference is not local


@dataclass(frozen=True, slots=True)
class UriIndex:
    param: str
    uri: str


IndexRow = StringIndex | TokenIndex | DateIndex | NumberIndex | QuantityIndex | ReferenceIndex | UriIndex
