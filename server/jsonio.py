"""FHIR JSON in and out, keeping decimal precision.

FHIR decimals keep their written precision (``1.50`` is not ``1.5``), so numbers with
a fraction or exponent are parsed as ``Decimal`` and written back verbatim.
"""

from __future__ import annotations

import json
from decimal import Decimal

import orjson

from .errors import BadRequest


def loads(data: bytes | str, *, what: str = "body") -> object:
    try:
        return json.loads(data, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The {what} is not valid JSON: {exc}", code="structure") from exc


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: object, *, pretty: bool = False) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_INDENT_2 if pretty else 0)


def load_resource(data: bytes | str, *, what: str = "body") -> dict:
    """Parse a body that must be one FHIR resource (a JSON object with resourceType)."""
    value = loads(data, what=what)
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise BadRequest(f"The {what} is not a FHIR resource: a JSON object with 'resourceType' is required",
                         code="structure")
    return value
