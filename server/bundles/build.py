"""Building response Bundles (searchset, history, batch/transaction-response).

Stored resources are embedded as raw JSON fragments: the bytes written at update
time go out as they are, without being parsed again.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import orjson

from ..storage.repository import StoredResource, format_instant

_STATUS = {"POST": "201 Created", "PUT": "200 OK", "PATCH": "200 OK", "DELETE": "204 No Content"}


def bundle(kind: str, entries: list[dict], links: list[dict] | None = None, total: int | None = None) -> dict:
    result = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": kind}
    if total is not None:
        result["total"] = total
    if links:
        result["link"] = links
    result["entry"] = entries
    return result


def link(relation: str, path: str, params: list[tuple[str, str]]) -> dict:
    return {"relation": relation, "url": f"{path}?{urlencode(params)}" if params else path}


def full_url(base: str, stored: StoredResource) -> str:
    return f"{base}/{stored.resource_type}/{stored.id}"


def resource_fragment(stored: StoredResource):
    return orjson.Fragment(stored.content)


def entry_for_version(base: str, stored: StoredResource) -> dict:
    """A history entry: the version, and the request that produced it."""
    created = stored.version_id == 1 and stored.method in ("POST", "PUT")
    method = "POST" if created else stored.method
    entry = {"fullUrl": full_url(base, stored)}
    if not stored.deleted:
        entry["resource"] = resource_fragment(stored)
    entry["request"] = {
        "method": method,
        "url": stored.resource_type if method == "POST" else f"{stored.resource_type}/{stored.id}",
    }
    entry["response"] = {
        "status": _STATUS[method],
        "etag": stored.etag,
        "lastModified": format_instant(stored.last_updated),
    }
    return entry


def search_entry(base: str, stored: StoredResource, mode: str, score=None, *, resource: dict | None = None) -> dict:
    """A searchset entry (mode ``match`` or ``include``): the stored bytes, or ``resource``
    when the client asked for a subset of it (``_summary``, ``_elements``)."""
    body = resource_fragment(stored) if resource is None else resource
    entry = {"fullUrl": full_url(base, stored), "resource": body, "search": {"mode": mode}}
    if score is not None:
        entry["search"]["score"] = score
    return entry


def outcome_entry(outcome: dict) -> dict:
    """A searchset entry with the OperationOutcome about the search itself (mode ``outcome``)."""
    return {"resource": outcome, "search": {"mode": "outcome"}}
