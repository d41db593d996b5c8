"""One batch/transaction entry's request, parsed from ``Bundle.entry[i].request``."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import jsonio
from ..api.interactions import JSON_PATCH
from ..errors import BadRequest

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class EntryRequest:
    index: int
    method: str
    url: str
    base: str
    full_url: str | None
    resource: dict | None
    resource_type: str | None = None
    fhir_id: str | None = None
    version_id: str | None = None
    history: bool = False
    query: str | None = None  # search criteria (conditional interactions, searches)
    if_match: str | None = None
    if_none_exist: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    existing_id: str | None = None  # set when ifNoneExist matched
    operation: str | None = None  # "$name" entries (e.g. POST Patient/$merge): the name, without $

    def patch_document(self) -> tuple[str, object]:
        """PATCH entries carry a Parameters resource (FHIRPath Patch) or a Binary
        holding a JSON Patch (R4 3.1.0.11.1)."""
        resource = self.resource or {}
        if resource.get("resourceType") == "Binary":
            try:
                return JSON_PATCH, jsonio.loads(base64.b64decode(resource.get("data", "")))
            except ValueError as exc:
                raise BadRequest(f"Bundle.entry[{self.index}]: the Binary does not hold a JSON Patch") from exc
        return "application/fhir+json", resource


def parse_entry(index: int, entry: dict, resource_types: frozenset[str], base: str) -> EntryRequest:
    where = f"Bundle.entry[{index}]"
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict):
        raise BadRequest(f"{where} has no request", expression=f"{where}.request")
    method = str(request.get("method", "")).upper()
    url = request.get("url")
    if method not in METHODS or not isinstance(url, str) or not url:
        raise BadRequest(f"{where}.request needs a method ({', '.join(METHODS)}) and a url",
                         expression=f"{where}.request")
    resource = entry.get("resource")
    if method in ("POST", "PUT", "PATCH") and not isinstance(resource, dict):
        raise BadRequest(f"{where}: {method} needs a resource", expression=f"{where}.resource")
    req = EntryRequest(index, method, url, base, entry.get("fullUrl"), resource,
                       if_match=request.get("ifMatch"), if_none_exist=request.get("ifNoneExist"),
                       if_none_match=request.get("ifNoneMatch"), if_modified_since=request.get("ifModifiedSince"))
    _parse_url(req, resource_types)
    if method in ("POST", "PUT") and req.operation is None and resource.get("resourceType") != req.resource_type:
        raise BadRequest(f"{where}: the resource is a {resource.get('resourceType')!r}, the url names "
                         f"{req.resource_type!r}", expression=f"{where}.resource")
    return req


def _parse_url(req: EntryRequest, resource_types: frozenset[str]) -> None:
    where = f"Bundle.entry[{req.index}].request.url"
    url = req.url
    if url.startswith(req.base + "/"):
        url = url[len(req.base) + 1:]
    parts = urlsplit(url)
    if parts.scheme:
        raise BadRequest(f"{where}: {req.url!r} is not on this server", expression=where)
    segments = [s for s in parts.path.split("/") if s]
    req.query = parts.query if ("?" in url) else None
    if segments and segments[-1].startswith("$"):
        _parse_operation(req, segments, resource_types)
        return
    if not segments:
        if req.method not in ("GET", "HEAD"):
            raise BadRequest(f"{where}: {req.method} needs a resource type", expression=where)
        return
    if segments == ["_history"]:
        req.history = True
        return
    if segments[0] not in resource_types:
        raise BadRequest(f"{where}: unknown resource type {segments[0]!r}", expression=where)
    req.resource_type = segments[0]
    rest = segments[1:]
    if rest and rest[0] == "_history":
        req.history, rest = True, rest[1:]
        if rest:
            raise BadRequest(f"{where}: malformed url {req.url!r}", expression=where)
    elif rest:
        req.fhir_id, rest = rest[0], rest[1:]
        if rest and rest[0] == "_history":
            req.history = True
            req.version_id = rest[1] if len(rest) > 1 else None
        elif rest:
            raise BadRequest(f"{where}: malformed url {req.url!r}", expression=where)
    needs_id = req.method in ("PUT", "PATCH", "DELETE") and req.query is None
    if needs_id and not req.fhir_id:
        raise BadRequest(f"{where}: {req.method} needs Type/id or search criteria", expression=where)
    if req.method == "POST" and (req.fhir_id or req.history):
        raise BadRequest(f"{where}: POST takes a resource type only", expression=where)


def _parse_operation(req: EntryRequest, segments: list[str], resource_types: frozenset[str]) -> None:
    """``$name``, ``Type/$name`` or ``Type/id/$name``, by POST (a Parameters or a resource
    as body) or GET (parameters in the query)."""
    where = f"Bundle.entry[{req.index}].request.url"
    if req.method not in ("GET", "POST") or len(segments) > 3:
        raise BadRequest(f"{where}: an operation is invoked by GET or POST on [Type/[id/]]$name", expression=where)
    req.operation = segments[-1][1:]
    if len(segments) > 1:
        if segments[0] not in resource_types:
            raise BadRequest(f"{where}: unknown resource type {segments[0]!r}", expression=where)
        req.resource_type = segments[0]
    if len(segments) == 3:
        req.fhir_id = segments[1]
