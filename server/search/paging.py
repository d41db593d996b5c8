"""Paging a search so that no page repeats or skips a resource while others write.

Two ways, chosen by the sort order:

* Keyset, for the orders whose keys no write changes: the default (``pid``, creation
  order) and ``_sort=_id``. The cursor holds the last row's keys and the next page is
  "the rows after them". New resources show up on a later page if they sort after the
  cursor, never shift the pages already served; updates move nothing.
* Snapshot, for every other ``_sort``: ``_lastUpdated`` changes on each update and any
  indexed value may, so a keyset over them would serve an updated resource twice (it
  moved after the cursor) or never (it moved before). The first page writes the whole
  ordered list of matching pids to ``search_snapshot`` in one ``INSERT … SELECT`` (a
  search that fits in one page writes nothing) and each page reads its slice. The cursor
  holds the snapshot id and the position. A page shows its resources' current versions;
  one deleted since is left out. Snapshots live ``SNAPSHOT_TTL``.

Cursors are lists (``[KEYSET, *keys]``, ``[SNAPSHOT, id, position, total]``); the HTTP layer
makes them opaque tokens (``server.api.cursor``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import DateTime, String, and_, delete, func, insert, literal, or_, select

from server.errors import BadRequest, Gone
from server.search.builder import RESOURCE, build_search, filtered, ordering, sort_columns
from server.search.parse import SearchQuery
from server.storage.db import WRITE
from server.storage.repository import StoredResource, utcnow
from server.storage.snapshots import SearchSnapshot

KEYSET, SNAPSHOT = "k", "s"
SNAPSHOT_TTL = timedelta(hours=1)
SNAP = SearchSnapshot.__table__

Guard = Callable[[object], AbstractContextManager]  # applies the search's time limit to a connection


@dataclass
class Page:
    pids: list[int]
    next: list | None = None
    previous: list | None = None
    first: list | None = None  # set when the first page is itself a cursor (a snapshot)
    total: int | None = None  # when known without counting
    matches: list[StoredResource] | None = None  # when already read (see _snapshot_first)


def keyset_ordered(query: SearchQuery) -> bool:
    """True when no write can change the order's keys (keyset paging is exact)."""
    return all(key.code == "_id" for key in query.sort)


def page(uow, query: SearchQuery, size: int, cursor: list | None, guard: Guard) -> Page:
    """The page of ``size`` matches that ``cursor`` designates (None: the first)."""
    if cursor is None:
        return _first(uow, query, size, guard)
    kind, *rest = cursor
    if kind == KEYSET and keyset_ordered(query):
        return _keyset_next(uow, query, size, rest)
    if kind == SNAPSHOT and not keyset_ordered(query):
        return _snapshot_page(uow, size, *_snapshot_cursor(rest))
    raise BadRequest("_page is not a cursor of this search (was _sort changed?)", expression="_page")


def _first(uow, query: SearchQuery, size: int, guard: Guard) -> Page:
    keyset = keyset_ordered(query)
    columns = [col for col, _ in sort_columns(query)] if keyset else [RESOURCE.c.pid]
    rows = _rows(uow, build_search(query, extra=1).with_only_columns(*columns))
    more = len(rows) > size
    rows = rows[:size]
    pids = [row[-1] for row in rows]  # pid closes every order
    if more and not keyset:
        return _snapshot_first(uow, query, size, guard)
    free_total = None if more or (query.offset and not rows) else query.offset + len(rows)
    return Page(pids, next=[KEYSET, *rows[-1]] if more else None, total=free_total)


def _keyset_next(uow, query: SearchQuery, size: int, keys: list) -> Page:
    columns = sort_columns(query)
    # pid is an int, every other keyset key an id: anything else was not issued by us.
    if len(keys) != len(columns) or not isinstance(keys[-1], int) or not all(isinstance(k, str) for k in keys[:-1]):
        raise BadRequest("_page is not a cursor this server issued", expression="_page")
    stmt = build_search(replace(query, offset=0), extra=1).with_only_columns(*(c for c, _ in columns))
    rows = _rows(uow, stmt.where(_after(columns, keys)))
    more = len(rows) > size
    rows = rows[:size]
    return Page([row[-1] for row in rows], next=[KEYSET, *rows[-1]] if more else None)


def _after(columns, keys: list):
    """Rows strictly after ``keys`` in the order of ``columns`` (each ascending or not)."""
    branches = []
    for i, (col, descending) in enumerate(columns):
        ties = [c == k for (c, _), k in zip(columns[:i], keys[:i])]
        branches.append(and_(*ties, col < keys[i] if descending else col > keys[i]))
    return or_(*branches)


def _rows(uow, stmt) -> list[tuple]:
    uow.flush()
    return [tuple(row) for row in uow.conn.execute(stmt)]


# --- snapshots ----------------------------------------------------------------------------


def _snapshot_first(uow, query: SearchQuery, size: int, guard: Guard) -> Page:
    """Write the snapshot and read the first page from it, in a transaction of its own.

    Its own transaction because the search's may not write: on SQLite a read transaction
    that turns writer fails when another writer committed since it began. Its resources
    are read there too: the snapshot may hold resources created after the search's
    transaction began, which that transaction (SQLite) would not see.
    """
    search_id, now = str(uuid.uuid4()), utcnow()
    with _writer(uow) as w, (nullcontext() if w is uow else guard(w.conn)):
        w.conn.execute(delete(SNAP).where(SNAP.c.created < now - SNAPSHOT_TTL))
        rows = filtered(query, literal(search_id, String), func.row_number().over(order_by=ordering(query)),
                        RESOURCE.c.pid, literal(now, DateTime))
        w.conn.execute(insert(SNAP).from_select(["search_id", "position", "pid", "created"], rows))
        # Not the INSERT's rowcount: psycopg reports -1 for INSERT … SELECT through SQLAlchemy.
        total = w.conn.execute(select(func.max(SNAP.c.position)).where(SNAP.c.search_id == search_id)).scalar() or 0
        start = query.offset + 1
        pids = _slice(w.conn, search_id, start, size)
        result = _snapshot_links(search_id, start, size, total, pids)
        result.matches = w.read_many(pids)
    return result


def _snapshot_page(uow, size: int, search_id: str, start: int, total: int) -> Page:
    pids = _slice(uow.conn, search_id, start, size)
    if not pids and start <= total:
        raise Gone(f"This search's results are kept {SNAPSHOT_TTL.seconds // 60} minutes and have expired: "
                   "run the search again", expression="_page")
    return _snapshot_links(search_id, start, size, total, pids)


def _snapshot_links(search_id: str, start: int, size: int, total: int, pids: list[int]) -> Page:
    def at(position: int) -> list:
        return [SNAPSHOT, search_id, position, total]

    return Page(pids, next=at(start + size) if start + size <= total else None,
                previous=at(max(1, start - size)) if start > 1 else None, first=at(1), total=total)


def _slice(conn, search_id: str, start: int, size: int) -> list[int]:
    stmt = (select(SNAP.c.pid)
            .where(SNAP.c.search_id == search_id, SNAP.c.position >= start, SNAP.c.position < start + size)
            .order_by(SNAP.c.position))
    return list(conn.execute(stmt).scalars())


def _snapshot_cursor(rest: list) -> tuple[str, int, int]:
    valid = len(rest) == 3 and isinstance(rest[0], str) and all(isinstance(n, int) and n >= 0 for n in rest[1:])
    if not valid or rest[1] < 1:
        raise BadRequest("_page is not a cursor this server issued", expression="_page")
    return rest[0], rest[1], rest[2]


@contextmanager
def _writer(uow):
    """A unit of work that may write now: this one if it writes already (a transaction
    Bundle holding SQLite's lock, which a second writer would wait on forever), else a new one."""
    if uow.conn.get_execution_options().get(next(iter(WRITE))):
        uow.flush()
        yield uow
    else:
        with uow.store.write() as writer:
            yield writer
