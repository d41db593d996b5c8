"""Editing FHIR JSON in place.

A primitive's id and extensions live beside it under ``_key`` (an object, or for a
list a parallel array with nulls where an item has none), so every edit here moves the
value and its ``_key`` holder together.
"""

from __future__ import annotations

from typing import Any

from .locate import Location


def copy_json(value: Any) -> Any:
    """A deep copy that shares no object between two places (identity finds slots)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def set_value(loc: Location, value: Any, holder: dict | None, key: str | None = None) -> None:
    """Put ``value`` (with its primitive ``holder``) in ``loc``'s slot, under ``key`` if
    given (a choice element changing type): the element is replaced as a whole."""
    container = loc.parent
    if loc.index is not None:
        container[loc.key][loc.index] = value
        _set_holder(container, loc.key, loc.index, holder)
        return
    if key and key != loc.key:
        remove(loc)
    put(container, key or loc.key, value, holder)


def put(container: dict, key: str, value: Any, holder: dict | None) -> None:
    """Set a single-valued element (and its ``_key`` holder, or none)."""
    container[key] = value
    if holder:
        container["_" + key] = holder
    else:
        container.pop("_" + key, None)


def remove(loc: Location) -> None:
    if loc.index is None:
        loc.parent.pop(loc.key, None)
        loc.parent.pop("_" + loc.key, None)
    else:
        pop(loc.parent, loc.key, loc.index)


def insert(container: dict, key: str, index: int, value: Any, holder: dict | None) -> None:
    items = container.setdefault(key, [])
    items.insert(index, value)
    holders = container.get("_" + key)
    if holder is not None or holders is not None:
        holders = container.setdefault("_" + key, [])
        holders.extend([None] * (len(items) - 1 - len(holders)))
        holders.insert(index, holder)


def pop(container: dict, key: str, index: int) -> tuple[Any, dict | None]:
    value = container[key].pop(index)
    holders = container.get("_" + key)
    holder = holders.pop(index) if holders and index < len(holders) else None
    return value, holder


def prune(node: Any) -> None:
    """Drop what deletes leave behind: FHIR JSON has no empty objects or arrays, and
    a ``_key`` array of nulls says nothing."""
    if isinstance(node, list):
        for item in node:
            prune(item)
        return
    if not isinstance(node, dict):
        return
    for key in list(node):
        value = node[key]
        prune(value)
        if isinstance(value, list):
            if key.startswith("_"):  # holders stay aligned with their values: {} -> null
                value[:] = [None if v == {} else v for v in value]
            else:
                value[:] = [v for v in value if v != {}]
        if value is None or value == {} or value == [] or _all_null(key, value):
            del node[key]


def _all_null(key: str, value: Any) -> bool:
    return key.startswith("_") and isinstance(value, list) and all(v is None for v in value)


def _set_holder(container: dict, key: str, index: int, holder: dict | None) -> None:
    holders = container.get("_" + key)
    if holder is None and holders is None:
        return
    holders = container.setdefault("_" + key, [])
    holders.extend([None] * (index + 1 - len(holders)))
    holders[index] = holder
