"""Typed search-index rows: what extraction produces and storage writes.

One dataclass per SearchParameter type (HAPI FHIR's layout: one index table per
type). Extraction (``server.search.extract``) turns a resource into a list of these;
the repository writes them into the matching ``idx_*`` table in the same database
transaction as the resource version. All datetimes are naive UTC.

``instance`` is None except on the component rows of a composite parameter
(``code-value-quantity``): those are written as ordinary rows of their component's
type, with param ``<composite code>$<component index>`` and, in ``instance``, which
element the composite expression selected (0, 1, ... within the resource), so that the
query side can require all components to come from the same element (the same
``Observation.component``), not from any two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Params of derived rows: the contract between extraction and the SQL builder.
OF_TYPE_SUFFIX = ":of-type"  # TokenIndex("<code>:of-type", <type system>, "<type code>|<value>")
IDENTIFIER_SUFFIX = ":identifier"  # TokenIndex("<code>:identifier", Reference.identifier system, value)


def component_param(code: str, index: int) -> str:
    """The param of a composite's component rows: ``code-value-quantity$1``."""
    return f"{code}${index}"


TEXT_PARAMS = frozenset({"_text", "_content"})
"""Whole-text parameters: one TokenIndex with code None and ``text`` = " word word ... "
(folded, each distinct word once), matched word by word (``server.search.sql.text``)."""


@dataclass(frozen=True, slots=True)
class StringIndex:
    param: str
    value: str  # normalized: accents stripped, case-folded (search default and :contains)
    exact: str  # as written (for :exact)
    instance: int | None = None


@dataclass(frozen=True, slots=True)
class TokenIndex:
    param: str
    system: str | None
    code: str | None
    text: str | None = None  # display / CodeableConcept.text / Identifier.type.text (for :text)
    instance: int | None = None


@dataclass(frozen=True, slots=True)
class DateIndex:
    param: str
    low: datetime | None  # first instant covered (None: unbounded)
    high: datetime | None  # last instant covered, inclusive (None: unbounded)
    instance: int | None = None


@dataclass(frozen=True, slots=True)
class NumberIndex:
    """``low`` inclusive, ``high`` exclusive: ``1.5`` is stored as [1.45, 1.55) (same in QuantityIndex)."""

    param: str
    value: float
    low: float  # implicit precision range of the stored value
    high: float
    instance: int | None = None


@dataclass(frozen=True, slots=True)
class QuantityIndex:
    param: str
    system: str | None
    code: str | None
    unit: str | None
    value: float
    low: float
    high: float
    instance: int | None = None


@dataclass(frozen=True, slots=True)
class ReferenceIndex:
    """``Patient/1`` -> type + id; an absolute URL -> ``url`` only (it may name another
    server: ``Patient/1`` must not match it); a canonical -> ``url`` without its
    ``|version`` (in ``target_version``)."""

    param: str
    target_type: str | None  # "Patient" for "Patient/123"
    target_id: str | None  # "123"
    target_version: str | None = None  # "2" for "Patient/123/_history/2"
    url: str | None = None  # absolute or canonical URL, when the reference is not relative
    instance: int | None = None


@dataclass(frozen=True, slots=True)
class UriIndex:
    param: str
    uri: str
    instance: int | None = None


IndexRow = StringIndex | TokenIndex | DateIndex | NumberIndex | QuantityIndex | ReferenceIndex | UriIndex

