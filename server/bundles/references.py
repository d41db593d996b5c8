"""Reference resolution inside a batch/transaction (R4 3.1.0.11.2).

``urn:uuid:…`` (and any other fullUrl of the Bundle) becomes the Type/id the entry
was given; a conditional reference (``Patient?identifier=…``) becomes the one resource
it matches, and fails the entry when it matches none or several.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..errors import BadRequest, PreconditionFailed
from ..search.service import find_ids
from ..storage.repository import UnitOfWork


def rewrite_references(resource: dict, placeholders: dict[str, str], uow: UnitOfWork, index: int) -> dict:
    def resolve(reference: str, path: str) -> str:
        if reference in placeholders:
            return placeholders[reference]
        if reference.startswith("urn:uuid:") or reference.startswith("urn:oid:"):
            raise BadRequest(f"Bundle.entry[{index}]: {reference} names no entry of this Bundle", expression=path)
        head, sep, query = reference.partition("?")
        if sep and "/" not in head and head[:1].isupper():
            return _conditional(head, query, path)
        return reference

    def _conditional(resource_type: str, query: str, path: str) -> str:
        matches = find_ids(uow, resource_type, parse_qsl(query, keep_blank_values=True), strict=True, limit=2)
        if len(matches) != 1:
            found = "no resource" if not matches else "several resources"
            raise PreconditionFailed(
                f"Bundle.entry[{index}]: conditional reference '{resource_type}?{query}' matches {found}",
                expression=path)
        return f"{resource_type}/{matches[0][0]}"

    def walk(node, path: str):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "reference" and isinstance(value, str):
                    out[key] = resolve(value, f"{path}.reference")
                else:
                    out[key] = walk(value, f"{path}.{key}")
            return out
        if isinstance(node, list):
            return [walk(item, f"{path}[{i}]") for i, item in enumerate(node)]
        return node

    return walk(resource, resource.get("resourceType", "Resource"))
