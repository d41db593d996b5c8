"""What a directory reader yields."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

# Part of every digest: bump it when a mapping changes, and the next import rewrites all.
MAPPING_VERSION = "1"

# FHIR strings hold no control characters but tab, CR and LF (nor can PostgreSQL text hold NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Entry:
    """One resource of the directory, with the key that identifies it across extracts.

    For Practitioner, Organization and Location the key is the conditional reference that
    finds the resource by its business identifier (``Practitioner?identifier=sys|value``);
    other entries refer to them by that same string, so references need no ids.

    ``source`` holds the extract's fields the resource is made of, and ``digest`` hashes
    them: an importer compares digests and builds ``resource`` only for what changed, so
    re-reading an unchanged extract costs a split and a hash per row.
    """

    __slots__ = ("key", "resource_type", "source", "_build", "_resource")

    def __init__(self, key: str, resource_type: str, source: tuple[str, ...], build: Callable[[], dict]):
        self.key = key
        self.resource_type = resource_type
        self.source = source
        self._build = build
        self._resource: dict | None = None

    @property
    def resource(self) -> dict:
        if self._resource is None:
            self._resource = self._build()
        return self._resource

    @property
    def digest(self) -> str:
        text = "\x1f".join((MAPPING_VERSION, self.resource_type, *self.source))
        return hashlib.sha256(text.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"Entry({self.key!r})"


@dataclass(frozen=True)
class Activity:
    """The resources one row describes, those referred to first."""

    line: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class RowError:
    """A malformed row: reported with its line number and skipped."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def identifier_key(resource_type: str, system: str, value: str) -> str:
    return f"{resource_type}?identifier={system}|{value}"


def reference(key: str, display: str | None = None) -> dict:
    ref = {"reference": key}
    if display:
        ref["display"] = display
    return ref


def coding(system: str, code: str, display: str | None = None) -> dict:
    c = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def compact(value):
    """Drop empty strings, None, empty lists and dicts, recursively: a missing column writes nothing.
    (False and 0 are values and stay.)"""
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                item = compact(item)
                if item:
                    out[key] = item
            elif item is not None and item != "":
                out[key] = item
        return out
    if type(value) is list:
        out = []
        for item in value:
            kind = type(item)
            if kind is dict or kind is list:
                item = compact(item)
                if item:
                    out.append(item)
            elif item is not None and item != "":
                out.append(item)
        return out
    return value


def control_character(fields: list[str]) -> int:
    """The 1-based column of the first field holding a control character, or 0."""
    if not _CONTROL.search("".join(fields)):  # the common case: one scan in C
        return 0
    return next(i for i, value in enumerate(fields, start=1) if _CONTROL.search(value))
