"""Search over a unit of work: parse, build the SQL, run it.

Used by the search interaction and by everything that selects resources by criteria
(conditional create/update/delete/patch, conditional references in transactions).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select

from ..errors import BadRequest
from ..storage.models import Resource
from .builder import build_search, count_search
from .parse import SearchQuery, UnknownParam, parse_search


@dataclass
class SearchResult:
    query: SearchQuery
    pids: list[int]
    has_more: bool
    total: int | None


def parse(uow, resource_type: str | None, params: list[tuple[str, str]], *, strict: bool) -> SearchQuery:
    query = parse_search(resource_type, params, uow.store.registry)
    if strict and query.unknown:
        raise BadRequest(unknown_message(query.unknown), code="not-supported",
                         expression=[u.name for u in query.unknown])
    return query


def unknown_message(unknown: list[UnknownParam]) -> str:
    return "; ".join(f"Parameter '{u.name}' ignored: {u.reason}" for u in unknown)


def run(uow, query: SearchQuery, *, page_size: int) -> SearchResult:
    """One page of matches (``page_size`` of them) and whether more follow."""
    registry = uow.store.registry
    # One more than asked tells whether a next page exists, without a second query.
    pids = uow.select_pids(build_search(replace(query, count=page_size), registry, extra=1)) if page_size > 0 else []
    has_more = len(pids) > page_size
    pids = pids[:page_size]
    total = None
    if query.total == "accurate" or page_size == 0:
        total = uow.scalar(count_search(query, registry))
    elif query.total != "none" and not has_more:
        total = query.offset + len(pids)  # the last page knows the total for free
    return SearchResult(query, pids, has_more, total)


def find_ids(uow, resource_type: str, params: list[tuple[str, str]], *, strict: bool = True,
             limit: int = 2) -> list[tuple[str, int]]:
    """(id, pid) of up to ``limit`` current resources matching the criteria."""
    query = parse(uow, resource_type, params, strict=strict)
    pids = uow.select_pids(build_search(replace(query, count=limit, offset=0), uow.store.registry))
    if not pids:
        return []
    rows = uow.conn.execute(select(Resource.pid, Resource.fhir_id).where(Resource.pid.in_(pids))).all()
    ids = {r.pid: r.fhir_id for r in rows}
    return [(ids[p], p) for p in pids]
