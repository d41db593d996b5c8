"""``_include`` / ``_revinclude``: the resources to add to a page of matches.

Both walk ``idx_reference`` from the page's pids (R4 §3.2.1.6):

* ``_include=Observation:subject[:Patient]`` follows references *out of* the matches:
  idx_reference rows of the matches → the live resource with that (type, id).
* ``_revinclude=Provenance:target[:Patient]`` follows references *into* the matches:
  idx_reference rows whose (target_type, target_id) is a match → their pid.

``*`` as the parameter (``Observation:*`` or ``_include=*``) means every reference
parameter. Specs without ``:iterate`` apply to the matches only; ``:iterate`` specs apply
again to whatever the previous round added, up to ``max_depth`` rounds (cycles stop by
themselves: pids already seen are never revisited). ``limit`` caps what is added, as
the spec allows a server to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import false, select

from server.search.parse import IncludeSpec, SearchQuery
from server.storage.models import IdxReference, Resource

REF = IdxReference.__table__
RES = Resource.__table__
CHUNK = 500  # bound parameters per IN list: well under SQLite's and PostgreSQL's limits
MAX_DEPTH = 3


def resolve_includes(
    conn,
    matched: Sequence[int],
    query: SearchQuery,
    *,
    max_depth: int = MAX_DEPTH,
    limit: int | None = 1000,
) -> list[int]:
    """Pids to add to the page (matches excluded), in discovery order."""
    specs = [(s, False) for s in query.includes] + [(s, True) for s in query.revincludes]
    if not specs or not matched:
        return []
    seen, added = set(matched), []
    frontier, depth = list(matched), 0
    while frontier and depth <= max_depth:
        active = specs if depth == 0 else [(s, rev) for s, rev in specs if s.iterate]
        if not active:
            break
        found = []
        for spec, reverse in active:
            for pid in _step(conn, frontier, spec, reverse):
                if pid not in seen:
                    seen.add(pid)
                    found.append(pid)
                    if limit is not None and len(added) + len(found) >= limit:
                        return added + found
        added += found
        frontier, depth = found, depth + 1
    return added


def _step(conn, pids: Sequence[int], spec: IncludeSpec, reverse: bool) -> Iterable[int]:
    for i in range(0, len(pids), CHUNK):
        chunk = pids[i : i + CHUNK]
        stmt = _reverse(chunk, spec) if reverse else _forward(chunk, spec)
        yield from conn.execute(stmt).scalars()


def _spec_filter(spec: IncludeSpec) -> list:
    where = []
    if spec.source_type != "*":
        where.append(REF.c.resource_type == spec.source_type)
    if spec.param != "*":
        where.append(REF.c.param == spec.param)
    if spec.target_type:
        where.append(REF.c.target_type == spec.target_type)
    return where


def _forward(pids: Sequence[int], spec: IncludeSpec):
    target = RES.alias("target")
    joined = REF.join(
        target,
        (target.c.resource_type == REF.c.target_type) & (target.c.fhir_id == REF.c.target_id),
    )
    return (
        select(target.c.pid)
        .select_from(joined)
        .where(REF.c.pid.in_(pids), *_spec_filter(spec), target.c.deleted == false())
        .distinct()
        .order_by(target.c.pid)
    )


def _reverse(pids: Sequence[int], spec: IncludeSpec):
    # Index rows exist only for live resources, so the referrers need no deleted check.
    matched = RES.alias("matched")
    joined = REF.join(
        matched,
        (matched.c.resource_type == REF.c.target_type) & (matched.c.fhir_id == REF.c.target_id),
    )
    return select(REF.c.pid).select_from(joined).where(matched.c.pid.in_(pids), *_spec_filter(spec)).distinct().order_by(REF.c.pid)
