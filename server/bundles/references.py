"""Reference resolution on the way in.

Inside a batch/transaction (R4 3.1.0.11.2), ``urn:uuid:…`` (and any other fullUrl of
the Bundle) becomes the Type/id the entry was given, and a conditional reference
(``Patient?identifier=…``) becomes the one resource it matches, failing the entry when
it matches none or several. On every write, an absolute reference to this server's own
base is stored relative (R4 3.1.1.4.10: a server treats its own base as local), so it
is indexed, searched and included like any local reference.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..errors import BadRequest, PreconditionFailed
from ..search.service import find_ids
from ..storage.repository import UnitOfWork


def local_reference(reference: str, bases: tuple[str, ...]) -> str:
    """``http://our.base/fhir/Patient/1`` -> ``Patient/1`` (also with _history/n)."""
    for base in bases:
        prefix = base.rstrip("/") + "/"
        if base and reference.startswith(prefix):
            rest = reference[len(prefix):].split("/")
            if len(rest) in (2, 4) and rest[0][:1].isupper() and (len(rest) == 2 or rest[2] == "_history"):
                return reference[len(prefix):]
    return reference


def localize_references(resource: dict, bases: tuple[str, ...]) -> dict:
    """The resource with absolute references to our own base made relative."""
    return _walk(resource, resource.get("resourceType", "Resource"), lambda ref, _path: local_reference(ref, bases))


def rewrite_references(resource: dict, placeholders: dict[str, str], uow: UnitOfWork, index: int,
                       bases: tuple[str, ...] = ()) -> dict:
    def resolve(reference: str, path: str) -> str:
        if reference in placeholders:
            return placeholders[reference]
        reference = local_reference(reference, bases)
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

    return _walk(resource, resource.get("resourceType", "Resource"), resolve)


def _walk(node, path: str, resolve):
    """A copy of ``node`` with every ``reference`` string passed through ``resolve``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                out[key] = resolve(value, f"{path}.reference")
            else:
                out[key] = _walk(value, f"{path}.{key}", resolve)
        return out
    if isinstance(node, list):
        return [_walk(item, f"{path}[{i}]", resolve) for i, item in enumerate(node)]
    return node
