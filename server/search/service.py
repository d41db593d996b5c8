"""Search over a unit of work: parse, build the SQL, run it.

Used by the search interaction and by everything that selects resources by criteria
(conditional create/update/delete/patch, conditional references in transactions).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import literal, select, union_all

from .. import jsonio
from ..authz.access import current
from ..authz.criteria import visible_pids
from ..authz.search import restrict
from ..errors import BadRequest
from ..storage.models import Resource
from ..storage.repository import StoredResource
from . import paging
from .base_refs import localize
from .builder import build_search, count_search, filtered
from .compartment import compartment_criterion, member_types
from .include import resolve_includes
from .limits import Deadline, SearchLimits, lookup_limit
from .sql.common import reused_aliases
from .parse import SearchQuery, UnknownParam, parse_search


@dataclass
class SearchResult:
    query: SearchQuery
    matches: list[StoredResource] = field(default_factory=list)
    included: list[StoredResource] = field(default_factory=list)
    total: int | None = None
    next: list | None = None  # cursors (see server.search.paging)
    previous: list | None = None
    first: list | None = None


def parse(uow, resource_type: str | None, params: list[tuple[str, str]], *, strict: bool,
          bases: tuple[str, ...] = (), compartment: tuple[str, str] | None = None) -> SearchQuery:
    """The query for ``params``; ``bases``: this server's base URLs (absolute references
    under them are local); ``compartment``: ``(type, id)`` of a compartment search, where
    ``resource_type`` is the searched type or ``*``. The current request's access
    (server.authz) narrows it to what its token may see, in the SQL itself."""
    registry = uow.store.registry
    if compartment is None:
        query = parse_search(resource_type, params, registry)
    else:
        query = _parse_compartment(registry, resource_type, params, *compartment)
    if strict and query.unknown:
        raise BadRequest(unknown_message(query.unknown), code="not-supported",
                         expression=[u.name for u in query.unknown])
    return restrict(localize(query, bases), current(), registry)


def _parse_compartment(registry, wanted: str, params, compartment: str, fhir_id: str) -> SearchQuery:
    members = member_types(registry, compartment, wanted)
    if wanted == "*":
        # Criteria resolve as in a system search (common parameters, or _type's); the
        # searched types are then the compartment's members, narrowed by _type if given.
        query = parse_search(None, params, registry)
        query.types = tuple(t for t in members if not query.types or t in query.types)
        if not query.types:  # () would mean every type
            raise BadRequest(f"_type names no type of the {compartment} compartment", expression="_type")
    else:
        query = parse_search(wanted, params, registry)
    query.criteria.append(compartment_criterion(registry, compartment, fhir_id, query.types))
    return query


def unknown_text(u: UnknownParam) -> str:
    return f"Parameter '{u.name}' ignored: {u.reason}"


def unknown_message(unknown: list[UnknownParam]) -> str:
    return "; ".join(unknown_text(u) for u in unknown)


def run(uow, query: SearchQuery, *, page_size: int, cursor: list | None = None,
        limits: SearchLimits = SearchLimits()) -> SearchResult:
    """One page of matches (``page_size`` of them), its includes, the total and cursors.

    ``_summary=count`` and ``_count=0`` ask for the total only.
    """
    query = replace(query, count=page_size)
    deadline = Deadline(limits.timeout_ms)
    with deadline.applied(uow.conn):
        uow.flush()
        if page_size == 0 or query.summary == "count":
            return SearchResult(query, total=_count(uow, query))
        page = paging.page(uow, query, page_size, cursor, deadline.applied)
        result = SearchResult(query, next=page.next, previous=page.previous, first=page.first)
        result.matches = page.matches if page.matches is not None else uow.read_many(page.pids)
        # Bundle.total when it comes free (the last page, a snapshot); counting every match
        # of a broad search costs as much as the search itself, so only on _total=accurate
        # or estimate.
        if page.total is not None and query.total != "none":
            result.total = page.total
        elif query.total in ("accurate", "estimate"):
            result.total = _count(uow, query)
        if query.includes or query.revincludes:
            # What the token may not see is left out (R4 lets a server omit includes).
            included = visible_pids(uow, current(), "s", resolve_includes(uow.conn, page.pids, query))
            result.included = uow.read_many(included)
    return result


def _count(uow, query: SearchQuery) -> int:
    if query.total == "estimate" and not query.criteria:
        estimate = _planner_estimate(uow, query)
        if estimate is not None:
            return estimate
    return uow.scalar(count_search(query))


def _planner_estimate(uow, query: SearchQuery) -> int | None:
    """PostgreSQL's row estimate for an unfiltered search: no count, statistics only
    (kept current by autovacuum's ANALYZE). Filtered searches count: for them the
    estimate can be off by orders of magnitude. SQLite has no such estimate."""
    conn = uow.conn
    if conn.dialect.name != "postgresql":
        return None
    compiled = filtered(query, Resource.__table__.c.pid).compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
    if isinstance(plan, str):
        plan = jsonio.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def find_ids(uow, resource_type: str, params: list[tuple[str, str]], *, strict: bool = True,
             limit: int = 2) -> list[tuple[str, int]]:
    """(id, pid) of up to ``limit`` current resources matching the criteria (the
    conditional interactions and references), under the same time limit as searches."""
    query = parse(uow, resource_type, params, strict=strict)
    uow.flush()  # before the limit: the flush lifts it
    limits = uow.store.search_limits or SearchLimits()
    with reused_aliases():
        statement = build_search(replace(query, count=limit, offset=0), uow.store.registry)
    with lookup_limit(uow, limits.timeout_ms):
        pids = uow.select_pids(statement)
    return _with_ids(uow, pids)


def find_ids_each(uow, lookups: list[tuple[str, list[tuple[str, str]]]], *, strict: bool = True,
                  limit: int = 2) -> list[list[tuple[str, int]]]:
    """``find_ids`` for several criteria in one statement (a transaction's conditional
    entries): one round trip instead of two each. The order within each answer is not kept."""
    if not lookups:
        return []
    queries = [replace(parse(uow, rt, params, strict=strict), count=limit, offset=0) for rt, params in lookups]
    parts = []
    with reused_aliases():  # one block: the parts are one statement
        for i, query in enumerate(queries):
            found = build_search(query, uow.store.registry).subquery()
            parts.append(select(literal(i).label("lookup"), Resource.pid, Resource.fhir_id)
                         .join(found, Resource.pid == found.c.pid))
    uow.flush()  # before the limit: the flush lifts it
    limits = uow.store.search_limits or SearchLimits()
    with lookup_limit(uow, limits.timeout_ms):
        rows = uow.conn.execute(union_all(*parts) if len(parts) > 1 else parts[0]).all()
    answers: list[list[tuple[str, int]]] = [[] for _ in lookups]
    for row in rows:
        answers[row.lookup].append((row.fhir_id, row.pid))
    return answers


def _with_ids(uow, pids: list[int]) -> list[tuple[str, int]]:
    if not pids:
        return []
    rows = uow.conn.execute(select(Resource.pid, Resource.fhir_id).where(Resource.pid.in_(pids))).all()
    ids = {r.pid: r.fhir_id for r in rows}
    return [(ids[p], p) for p in pids]
