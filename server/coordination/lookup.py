"""Reading resources for the coordination operations, through the search service.

Everything goes through ``find_ids`` and the unit of work, the paths the security
layer filters, never through ORM rows.
"""

from __future__ import annotations

from ..errors import BadRequest, FhirError, NotFound
from ..search.service import find_ids

# Enough for a $find window or a coverage's plans; a query matching more is refused
# rather than silently cut (the caller narrows its window).
MAX_MATCHES = 20000


def search(uow, resource_type: str, params: list[tuple[str, str]], *, limit: int = MAX_MATCHES) -> list[dict]:
    """The current resources matching the criteria, in creation order."""
    ids = find_ids(uow, resource_type, params, strict=True, limit=limit + 1)
    if len(ids) > limit:
        raise BadRequest(f"Too many {resource_type} match; narrow the request", code="too-costly")
    return [stored.resource() for stored in uow.read_many([pid for _, pid in ids])]


def split_reference(reference: str, *, expected: str | tuple[str, ...] | None = None,
                    expression: str) -> tuple[str, str]:
    """'Type/id' (or an absolute URL ending so) -> (type, id); BadRequest otherwise."""
    parts = reference.rstrip("/").split("/") if isinstance(reference, str) else []
    if len(parts) < 2 or not parts[-1] or not parts[-2][:1].isupper():
        raise BadRequest(f"{reference!r} is not a reference of the form Type/id", expression=expression)
    resource_type, fhir_id = parts[-2], parts[-1]
    wanted = (expected,) if isinstance(expected, str) else expected
    if wanted and resource_type not in wanted:
        raise BadRequest(f"{reference!r} should reference a {' or '.join(wanted)}", expression=expression)
    return resource_type, fhir_id


def read_reference(uow, reference: str, *, expected=None, expression: str) -> dict:
    """The resource a reference points to; 404/410 name the element that referenced it."""
    resource_type, fhir_id = split_reference(reference, expected=expected, expression=expression)
    try:
        return uow.read(resource_type, fhir_id).resource()
    except FhirError as exc:
        if isinstance(exc, NotFound) or exc.status == 410:
            exc.expression = [expression]
        raise


def reference_of(resource: dict) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def identifier_token(identifier: dict) -> str | None:
    """An Identifier as a search token ('system|value', or 'value' without a system)."""
    if not isinstance(identifier, dict) or not identifier.get("value"):
        return None
    return f"{identifier['system']}|{identifier['value']}" if identifier.get("system") else identifier["value"]


def codings(concepts) -> list[dict]:
    """Every Coding of a CodeableConcept or a list of them."""
    if isinstance(concepts, dict):
        concepts = [concepts]
    return [c for concept in concepts or [] for c in concept.get("coding", [])]


def token_matches(token: str, concepts) -> bool:
    """A search token ('system|code' or 'code') against CodeableConcept(s)."""
    system, _, code = token.rpartition("|")
    return any(c.get("code") == code and (not system or c.get("system") == system) for c in codings(concepts))
