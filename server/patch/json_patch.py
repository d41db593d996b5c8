"""JSON Patch (RFC 6902) on FHIR JSON, by the ``jsonpatch`` package.

We only translate its exceptions: a malformed patch document (not a list of
operations, unknown ``op``, missing member, bad pointer syntax) is BadRequest; an
operation that does not fit this resource (path not found, failed ``test``) is
Unprocessable. Operations are applied one at a time so errors can name the failing one.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from server.errors import BadRequest, Unprocessable


def apply_json_patch(resource: dict, operations: list) -> dict:
    if not isinstance(operations, list):
        raise BadRequest("Invalid JSON Patch: the document must be an array of operations")
    patches = [_compile(i, op) for i, op in enumerate(operations)]
    result = copy.deepcopy(resource)
    for i, (op, patch) in enumerate(zip(operations, patches)):
        try:
            result = patch.apply(result, in_place=True)
        except jsonpatch.InvalidJsonPatch as exc:  # e.g. "add" without "value"
            raise _malformed(i, op, exc) from exc
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _cannot(resource, i, op, str(exc)) from exc
    if not isinstance(result, dict):
        raise _cannot(resource, len(operations) - 1, operations[-1], "the result is not a resource")
    return result


def _compile(i: int, op: Any) -> jsonpatch.JsonPatch:
    try:
        return jsonpatch.JsonPatch([op])
    except (jsonpatch.InvalidJsonPatch, jsonpointer.JsonPointerException) as exc:
        raise _malformed(i, op, exc) from exc


def _describe(i: int, op: Any) -> str:
    if isinstance(op, dict):
        return f"JSON Patch operation {i} ({op.get('op')} {op.get('path')})"
    return f"JSON Patch operation {i}"


def _malformed(i: int, op: Any, exc: Exception) -> BadRequest:
    return BadRequest(f"Invalid {_describe(i, op)}: {exc}")


def _cannot(resource: dict, i: int, op: Any, message: str) -> Unprocessable:
    path = op.get("path") if isinstance(op, dict) else None
    expression = _fhirpath(resource.get("resourceType"), path)
    return Unprocessable(f"{_describe(i, op)} cannot be applied: {message}", expression=expression)


def _fhirpath(resource_type: Any, pointer: Any) -> str | None:
    """``/name/0/given`` on a Patient -> ``Patient.name[0].given`` (OperationOutcome
    expressions are FHIRPath, not JSON Pointers)."""
    if not isinstance(resource_type, str) or not isinstance(pointer, str):
        return None
    out = resource_type
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if token.isdigit():
            out += f"[{token}]"
        elif token != "-":  # "-" is the end of an array: the array itself is meant
            out += f".{token}"
    return out
