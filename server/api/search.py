"""The search interaction: a searchset Bundle with matches, includes and an outcome."""

from __future__ import annotations

from dataclasses import replace

from ..bundles.build import bundle, link, search_entry
from ..search import service
from ..search.include import resolve_includes
from ..storage.repository import UnitOfWork
from .history import page_size
from .outcome import Answer


def search(uow: UnitOfWork, ctx, base: str, resource_type: str | None, params: list[tuple[str, str]], *,
           strict: bool = False) -> Answer:
    query = service.parse(uow, resource_type, params, strict=strict)
    count = page_size(ctx.settings, None if query.count is None else str(query.count))
    query = replace(query, count=count)
    result = service.run(uow, query, page_size=count)
    matches = uow.read_many(result.pids)
    entries = [search_entry(base, stored, "match") for stored in matches]
    if query.includes or query.revincludes:
        included = resolve_includes(uow.conn, result.pids, query)
        entries += [search_entry(base, stored, "include") for stored in uow.read_many(included)]
    if query.unknown:
        entries.append({"resource": _outcome(query), "search": {"mode": "outcome"}})
    path = f"{base}/{resource_type}" if resource_type else base
    plain = [(k, v) for k, v in params if k not in ("_offset",)]
    links = [link("self", path, params)]
    if result.has_more:
        links.append(link("next", path, [*plain, ("_offset", str(query.offset + count))]))
    if query.offset > 0:
        links.append(link("previous", path, [*plain, ("_offset", str(max(0, query.offset - count)))]))
    return Answer(200, body=bundle("searchset", entries, links, result.total))


def _outcome(query) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "warning", "code": "not-supported", "diagnostics": f"Parameter '{u.name}' ignored: {u.reason}",
             "expression": [u.name]}
            for u in query.unknown
        ],
    }
