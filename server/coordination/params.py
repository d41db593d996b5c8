"""Reading operation input parameters (Parameters resource, or GET query strings)."""

from __future__ import annotations

from ..errors import BadRequest
from .fhirtime import parse_instant


def raw_values(call, *names: str) -> list:
    """value[x] or resource of every parameter named one of ``names`` (aliases, in order)."""
    found = []
    for name in names:
        for part in call.values(name):
            if "resource" in part:
                found.append(part["resource"])
            found += [v for k, v in part.items() if k.startswith("value")]
    return found


def reference(value, name: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        return value["reference"]
    if isinstance(value, str) and value:
        return value
    raise BadRequest(f"'{name}' must be a Reference (or a 'Type/id' string)", expression=name)


def references(call, *names: str) -> list[str]:
    out = []
    for value in raw_values(call, *names):
        out += reference(value, names[0]).split(",") if isinstance(value, str) else [reference(value, names[0])]
    return [r for r in out if r]


def tokens(call, *names: str) -> list[str]:
    """Codes as search tokens ('system|code'): from Coding, CodeableConcept or strings."""
    out = []
    for value in raw_values(call, *names):
        if isinstance(value, str):
            out += [t for t in value.split(",") if t]
        elif isinstance(value, dict):
            codings = value.get("coding", [value] if "code" in value else [])
            out += [f"{c.get('system', '')}|{c['code']}" if c.get("system") else c["code"]
                    for c in codings if c.get("code")]
    return out


def instant(call, *names: str):
    values = raw_values(call, *names)
    if not values:
        return None
    if not isinstance(values[0], str):
        raise BadRequest(f"'{names[0]}' must be a dateTime", expression=names[0])
    return parse_instant(values[0], expression=names[0])


def integer(call, *names: str) -> int | None:
    values = raw_values(call, *names)
    if not values:
        return None
    value = values[0]
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"'{names[0]}' must be an integer", expression=names[0])
    return value


def resource(call, *names: str, resource_type: str) -> dict | None:
    for value in raw_values(call, *names):
        if not isinstance(value, dict) or value.get("resourceType") != resource_type:
            raise BadRequest(f"'{names[0]}' must be a {resource_type} resource", expression=names[0])
        return value
    return None
