"""The resource repository: versioned writes with their search index, in one transaction.

Every interaction goes through a ``UnitOfWork`` (one database transaction). Writes
append an immutable ``resource_version`` row, move the ``resource`` pointer and replace
the resource's index rows, all or nothing. Reads return the stored JSON bytes as they
were written: nothing is re-parsed or re-validated on the way out.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from sqlalchemy import Connection, Engine, and_, delete, func, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError

from .. import jsonio
from ..errors import Conflict, Gone, NotFound, PreconditionFailed
from ..search import index_rows as ix
from . import db
from .bulk import insert_rows
from .models import INDEX_TABLES as TABLES_BY_TYPE
from .models import Resource, ResourceVersion

# Row class -> its idx_* table (StringIndex -> idx_string ...).
INDEX_TABLES = {
    ix.StringIndex: TABLES_BY_TYPE["string"],
    ix.TokenIndex: TABLES_BY_TYPE["token"],
    ix.DateIndex: TABLES_BY_TYPE["date"],
    ix.NumberIndex: TABLES_BY_TYPE["number"],
    ix.QuantityIndex: TABLES_BY_TYPE["quantity"],
    ix.ReferenceIndex: TABLES_BY_TYPE["reference"],
    ix.UriIndex: TABLES_BY_TYPE["uri"],
}
_STRING_LIMIT = 255  # idx_string columns are VARCHAR(255)
_PID_BLOCK = 200
_DRAW_PIDS = text("SELECT nextval(pg_get_serial_sequence('resource', 'pid')) FROM generate_series(1, :n)")

R = Resource.__table__
V = ResourceVersion.__table__


class Current(NamedTuple):
    """Where a resource's ``resource`` row stands (or would, once flushed)."""

    pid: int
    version_id: int
    deleted: bool
    last_updated: datetime


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One version of a resource as stored; ``content`` is None for a delete."""

    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    deleted: bool
    content: bytes | None
    method: str = "GET"
    pid: int | None = None  # internal key (paging cursors); never shown to clients as such

    @property
    def etag(self) -> str:
        return f'W/"{self.version_id}"'

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"

    def resource(self) -> dict:
        """The parsed resource (for the paths that must look inside it)."""
        if self.content is None:
            raise Gone(f"{self.reference} is deleted")
        return jsonio.loads(self.content)


def format_instant(moment: datetime) -> str:
    """FHIR instant in UTC with microseconds, e.g. 2026-11-28T21:34:48.123456Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


Extractor = Callable[[dict], list]
Validator = Callable[[dict], None]


class StoreListener(Protocol):
    """Told about every unit of work (e.g. the runtime SearchParameters, server.search.runtime)."""

    def begin(self, uow: UnitOfWork, *, write: bool) -> None:
        """A unit of work has started; its transaction is open."""

    def writing(self, uow: UnitOfWork, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        """A resource is about to be written (None: deleted); raising aborts the write. The
        listener may amend ``resource`` in place: what it adds is stored (server.mdm adds links)."""


class Store:
    """Entry point: opens units of work on one engine."""

    def __init__(self, engine: Engine, *, registry, extract: Extractor, validate: Validator, clock=utcnow,
                 search_limits=None):
        self.engine = engine
        self.registry = registry  # SearchRegistry: what the search index holds
        self.search_limits = search_limits  # SearchLimits for searches made on behalf of writes
        self.extract = extract
        self.validate = validate
        self.clock = clock
        self.listeners: list[StoreListener] = []
        self._writer = engine.execution_options(**db.WRITE)
        self._pids: list[int] = []  # PostgreSQL: drawn from the sequence, not yet used
        self._pids_lock = threading.Lock()

    def next_pid(self, conn: Connection) -> int:
        """PostgreSQL: a pid from the column's sequence, drawn in blocks shared by this
        process's units of work (one round trip per block; gaps are harmless)."""
        with self._pids_lock:
            if not self._pids:
                self._pids = list(conn.execute(_DRAW_PIDS, {"n": _PID_BLOCK}).scalars())[::-1]
            return self._pids.pop()

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        with self.engine.connect() as conn:
            with conn.begin():
                uow = UnitOfWork(self, conn)
                for listener in self.listeners:
                    listener.begin(uow, write=False)
                yield uow

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction: committed when the block ends, rolled back on any error.
        ``uow.after_commit`` callbacks run once it is committed (never on rollback)."""
        with self._writer.connect() as conn:
            with conn.begin():
                uow = UnitOfWork(self, conn)
                for listener in self.listeners:
                    listener.begin(uow, write=True)
                yield uow
                uow.flush()
        for callback in uow.after_commit:
            callback()


class UnitOfWork:
    def __init__(self, store: Store, conn: Connection):
        self.store = store
        self.conn = conn
        self.now = store.clock()  # one lastUpdated for everything written in this transaction
        # Rows buffered until the next read that needs them (``flush``). New resources are
        # keyed by (type, id): this unit of work finds its own creations without a flush.
        self._pending_resources: dict[tuple[str, str], dict] = {}
        self._pending_versions: list[dict] = []
        self._pending_keys: set[tuple[str, str]] = set()  # (type, id) with a version in _pending_versions
        self._pending_index: dict[int, list[tuple[type, dict]]] = {}  # pid -> its current version's rows
        self._free_pids: list[int] = []
        self._sqlite_next_pid = 0
        self._reindex_pids: list[int] = []
        self.after_commit: list[Callable[[], None]] = []
        self._locked: set[int] = set()  # advisory locks held until the transaction ends
        self._statement_limit: int | None = None  # statement_timeout set by limit_statements

    def lock(self, names: Iterable[str]) -> bool:
        """Hold back any other transaction that locks one of ``names`` until this one ends.

        For what the database cannot see as one row: two transactions creating "the
        Patient with this identifier" (a conditional create), the same new person (identity
        matching), alerts of one patient. PostgreSQL transaction-level advisory locks, all
        of one call taken in one order (no deadlock between callers that name all theirs at
        once); a name locked twice by one transaction does not block it. SQLite serializes
        writers already. True when a lock was taken now (another transaction may have
        committed while this one waited)."""
        if self.conn.dialect.name != "postgresql":
            return False
        ids = sorted({_lock_id(name) for name in names} - self._locked)
        if ids:
            self.conn.execute(_LOCK, {"ids": ids}).all()
            self._locked.update(ids)
        return bool(ids)

    def limit_statements(self, timeout_ms: int) -> None:
        """PostgreSQL: stop any statement of this transaction that runs past ``timeout_ms``,
        until the next flush lifts the limit (look-ups are bounded, bulk writes are not)."""
        if self._statement_limit != timeout_ms:
            self.conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(timeout_ms)})
            self._statement_limit = timeout_ms

    # -- reads ---------------------------------------------------------------------------

    def _current(self, resource_type: str, fhir_id: str, *, for_update: bool = False):
        pending = self._pending_resources.get((resource_type, fhir_id))
        if pending is not None:  # created by this unit of work, not sent yet
            return Current(pending["pid"], pending["version_id"], pending["deleted"], pending["last_updated"])
        query = select(R.c.pid, R.c.version_id, R.c.deleted, R.c.last_updated).where(
            R.c.resource_type == resource_type, R.c.fhir_id == fhir_id
        )
        if for_update:
            query = query.with_for_update()
        return self.conn.execute(query).first()

    def _flush_for(self, resource_type: str, fhir_id: str) -> None:
        """Before reading one resource's rows: only its own buffered writes matter."""
        if (resource_type, fhir_id) in self._pending_keys:
            self.flush()

    def read(self, resource_type: str, fhir_id: str) -> StoredResource:
        """The current version; NotFound if it never existed, Gone if deleted."""
        self._flush_for(resource_type, fhir_id)
        row = self.conn.execute(
            select(V.c.version_id, V.c.last_updated, V.c.deleted, V.c.content, V.c.method)
            .select_from(R.join(V, and_(V.c.pid == R.c.pid, V.c.version_id == R.c.version_id)))
            .where(R.c.resource_type == resource_type, R.c.fhir_id == fhir_id)
        ).first()
        if row is None:
            raise NotFound(f"{resource_type}/{fhir_id} is not known")
        stored = StoredResource(resource_type, fhir_id, row.version_id, row.last_updated, row.deleted,
                                row.content, row.method)
        if stored.deleted:
            raise Gone(f"{resource_type}/{fhir_id} was deleted (version {row.version_id})",
                       headers={"ETag": stored.etag})
        return stored

    def vread(self, resource_type: str, fhir_id: str, version_id: int) -> StoredResource:
        self._flush_for(resource_type, fhir_id)
        row = self.conn.execute(
            select(V.c.last_updated, V.c.deleted, V.c.content, V.c.method)
            .select_from(R.join(V, V.c.pid == R.c.pid))
            .where(R.c.resource_type == resource_type, R.c.fhir_id == fhir_id, V.c.version_id == version_id)
        ).first()
        if row is None:
            raise NotFound(f"{resource_type}/{fhir_id}/_history/{version_id} is not known")
        if row.deleted:
            raise Gone(f"{resource_type}/{fhir_id} version {version_id} is a deletion")
        return StoredResource(resource_type, fhir_id, version_id, row.last_updated, False, row.content, row.method)

    def read_many(self, pids: list[int]) -> list[StoredResource]:
        """Current versions for the given pids, in the order given (search results)."""
        if not pids:
            return []
        self.flush()
        rows = self.conn.execute(
            select(R.c.pid, R.c.resource_type, R.c.fhir_id, V.c.version_id, V.c.last_updated, V.c.content)
            .select_from(R.join(V, and_(V.c.pid == R.c.pid, V.c.version_id == R.c.version_id)))
            .where(R.c.pid.in_(pids), R.c.deleted.is_(False))
        ).all()
        by_pid = {r.pid: StoredResource(r.resource_type, r.fhir_id, r.version_id, r.last_updated, False, r.content)
                  for r in rows}
        return [by_pid[p] for p in pids if p in by_pid]

    def history(
        self,
        resource_type: str | None = None,
        fhir_id: str | None = None,
        *,
        since: datetime | None = None,
        at: tuple[datetime, datetime] | None = None,
        before: tuple[datetime, int, int] | None = None,
        count: int = 20,
        visible: Callable[[object], object] | None = None,
    ) -> list[StoredResource]:
        """Versions newest first. ``at`` (low, high) keeps the versions current at some
        moment of that range; ``before`` is the keyset cursor (last_updated, pid,
        version_id) of the previous page, so pages do not shift while others write.
        ``visible(table)``: a condition on the version table ANDed in (an access token's
        reach, server.authz.history)."""
        self.flush()
        conditions = []
        if resource_type:
            conditions.append(V.c.resource_type == resource_type)
        if visible is not None:
            conditions.append(visible(V))
        if fhir_id is not None:
            current = self._current(resource_type, fhir_id)
            if current is None:
                raise NotFound(f"{resource_type}/{fhir_id} is not known")
            conditions.append(V.c.pid == current.pid)
        if since is not None:
            conditions.append(V.c.last_updated >= since)
        if at is not None:
            low, high = at
            # The version current when the range starts, plus every version written within it.
            current_at_low = (
                select(V.c.pid, func.max(V.c.version_id).label("version_id"))
                .where(V.c.last_updated <= low, *conditions)
                .group_by(V.c.pid)
                .subquery()
            )
            at_low = select(V.c.pid, V.c.version_id).join(
                current_at_low, and_(V.c.pid == current_at_low.c.pid, V.c.version_id == current_at_low.c.version_id)
            )
            within = select(V.c.pid, V.c.version_id).where(V.c.last_updated > low, V.c.last_updated <= high,
                                                            *conditions)
            conditions = [tuple_(V.c.pid, V.c.version_id).in_(at_low.union(within))]
        if before is not None:
            conditions.append(tuple_(V.c.last_updated, V.c.pid, V.c.version_id) < tuple_(*before))
        rows = self.conn.execute(
            select(V)
            .where(*conditions)
            .order_by(V.c.last_updated.desc(), V.c.pid.desc(), V.c.version_id.desc())
            .limit(count)
        ).all()
        return [
            StoredResource(r.resource_type, r.fhir_id, r.version_id, r.last_updated, r.deleted, r.content, r.method,
                           r.pid)
            for r in rows
        ]

    def count_versions(self, resource_type: str, fhir_id: str) -> int:
        current = self._current(resource_type, fhir_id)
        return 0 if current is None else current.version_id

    def select_pids(self, statement) -> list[int]:
        """Run a search statement (from server.search.builder) that selects pids."""
        self.flush()
        return list(self.conn.execute(statement).scalars())

    def scalar(self, statement):
        self.flush()
        return self.conn.execute(statement).scalar()

    def pid_of(self, resource_type: str, fhir_id: str) -> int | None:
        """The pid of a live resource, or None (reference checks, conditional logic)."""
        row = self._current(resource_type, fhir_id)
        return row.pid if row is not None and not row.deleted else None

    # -- writes --------------------------------------------------------------------------

    def create(self, resource: dict, *, fhir_id: str | None = None, method: str = "POST") -> StoredResource:
        """Store a new resource under a server-assigned id (or ``fhir_id``, for
        update-as-create and transactions that assigned one already).

        The ``resource`` row is buffered like the others, under a pid allocated up
        front; a clash on a client-chosen id surfaces at flush as a 409.
        """
        self.store.validate(resource)
        resource_type = resource["resourceType"]
        fhir_id = fhir_id or str(uuid.uuid4())
        if (resource_type, fhir_id) in self._pending_resources:
            raise Conflict(f"{resource_type}/{fhir_id} is created twice in one transaction")
        self._writing(resource_type, fhir_id, resource)
        pid = self._next_pid()
        self._pending_resources[resource_type, fhir_id] = dict(
            pid=pid, resource_type=resource_type, fhir_id=fhir_id, version_id=1, last_updated=self.now, deleted=False)
        return self._write_version(pid, resource, fhir_id, 1, method)

    def _next_pid(self) -> int:
        """Allocate pids in blocks: one round trip per block instead of an INSERT ... RETURNING
        per resource. PostgreSQL: ``Store.next_pid``. SQLite writers hold the database lock
        (BEGIN IMMEDIATE), so max(pid) + 1 is safe, for this transaction only."""
        if self.conn.dialect.name == "postgresql":
            return self.store.next_pid(self.conn)
        if not self._free_pids:
            start = self._sqlite_next_pid or (self.conn.execute(select(func.max(R.c.pid))).scalar() or 0) + 1
            self._free_pids = list(range(start + _PID_BLOCK - 1, start - 1, -1))
            self._sqlite_next_pid = start + _PID_BLOCK
        return self._free_pids.pop()

    def update(
        self, resource: dict, fhir_id: str, *, if_match: int | None = None, method: str = "PUT"
    ) -> tuple[StoredResource, bool]:
        """Store a new version (or create with the client's id). Returns (stored, created)."""
        resource_type = resource["resourceType"]
        current = self._current(resource_type, fhir_id, for_update=True)
        if current is None:
            if if_match is not None:
                raise PreconditionFailed(f"{resource_type}/{fhir_id} does not exist (If-Match given)")
            return self.create(resource, fhir_id=fhir_id, method=method), True
        if if_match is not None and if_match != current.version_id:
            raise PreconditionFailed(
                f"Version conflict on {resource_type}/{fhir_id}: If-Match asks for version {if_match}, "
                f"the current version is {current.version_id}"
            )
        self.store.validate(resource)
        self._writing(resource_type, fhir_id, resource)
        version_id = current.version_id + 1
        self._move_pointer(resource_type, fhir_id, current, version_id, deleted=False)
        return self._write_version(current.pid, resource, fhir_id, version_id, method), current.deleted

    def delete(self, resource_type: str, fhir_id: str, *, if_match: int | None = None) -> StoredResource | None:
        """Write a tombstone version. Deleting a deleted or unknown resource is a no-op (None)."""
        current = self._current(resource_type, fhir_id, for_update=True)
        if current is None or current.deleted:
            return None
        if if_match is not None and if_match != current.version_id:
            raise PreconditionFailed(
                f"Version conflict on {resource_type}/{fhir_id}: If-Match asks for version {if_match}, "
                f"the current version is {current.version_id}"
            )
        self._writing(resource_type, fhir_id, None)
        version_id = current.version_id + 1
        self._move_pointer(resource_type, fhir_id, current, version_id, deleted=True)
        self._pending_keys.add((resource_type, fhir_id))
        self._pending_versions.append(
            dict(pid=current.pid, version_id=version_id, resource_type=resource_type, fhir_id=fhir_id,
                 last_updated=self.now, method="DELETE", deleted=True, content=None)
        )
        return StoredResource(resource_type, fhir_id, version_id, self.now, True, None, "DELETE")

    def reindex(self, pids: list[int]) -> int:
        """Rewrite the index rows of these resources from their current versions
        (``$reindex``, after the SearchParameters changed). Returns how many were live.

        The ``resource`` rows are locked first (PostgreSQL; SQLite writers are serialized
        anyway), and the content read after the lock: an update that committed before is
        the version indexed here; one still running makes us wait for it; one that comes
        later waits for us and then replaces these rows with its own. Either way the
        index ends up describing the current version.
        """
        if not pids:
            return 0
        self.flush()
        self.conn.execute(select(R.c.pid).where(R.c.pid.in_(pids)).order_by(R.c.pid).with_for_update()).all()
        rows = self.conn.execute(
            select(R.c.pid, R.c.resource_type, V.c.content)
            .select_from(R.join(V, and_(V.c.pid == R.c.pid, V.c.version_id == R.c.version_id)))
            .where(R.c.pid.in_(pids), R.c.deleted.is_(False))
        ).all()
        self._reindex_pids.extend(pids)  # deleted ones too: they must have no rows at all
        for row in rows:
            self._index(row.pid, row.resource_type, jsonio.loads(row.content))
        self.flush()
        return len(rows)

    def _writing(self, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        for listener in self.store.listeners:
            listener.writing(self, resource_type, fhir_id, resource)

    def _move_pointer(self, resource_type: str, fhir_id: str, current, version_id: int, *, deleted: bool) -> None:
        self._pending_index.pop(current.pid, None)  # the rows of a version this unit of work replaces
        pending = self._pending_resources.get((resource_type, fhir_id))
        if pending is not None:
            pending.update(version_id=version_id, last_updated=self.now, deleted=deleted)
            return
        self._reindex_pids.append(current.pid)
        # Compare-and-set on the version: a concurrent writer that got in first wins,
        # this one fails instead of silently overwriting (lost update).
        moved = self.conn.execute(
            update(R)
            .where(R.c.pid == current.pid, R.c.version_id == current.version_id)
            .values(version_id=version_id, last_updated=self.now, deleted=deleted)
        ).rowcount
        if moved != 1:
            raise Conflict("The resource was changed by another request meanwhile; retry", code="conflict")

    def _write_version(self, pid: int, resource: dict, fhir_id: str, version_id: int, method: str) -> StoredResource:
        resource_type = resource["resourceType"]
        resource = stamp(resource, fhir_id, version_id, self.now)
        content = jsonio.dumps(resource)
        self._pending_keys.add((resource_type, fhir_id))
        self._pending_versions.append(
            dict(pid=pid, version_id=version_id, resource_type=resource_type, fhir_id=fhir_id,
                 last_updated=self.now, method=method, deleted=False, content=content)
        )
        self._index(pid, resource_type, resource)
        return StoredResource(resource_type, fhir_id, version_id, self.now, False, content, method)

    def _index(self, pid: int, resource_type: str, resource: dict) -> None:
        self._pending_index[pid] = [(type(row), _index_values(pid, resource_type, row))
                                    for row in self.store.extract(resource)]

    def flush(self) -> None:
        """Send the buffered rows, a few statements per table, before anything reads them."""
        if self._statement_limit is not None and (
                self._reindex_pids or self._pending_resources or self._pending_versions or self._pending_index):
            self.conn.execute(text("SET LOCAL statement_timeout TO DEFAULT"))
            self._statement_limit = None
        if self._reindex_pids:
            for table in INDEX_TABLES.values():
                self.conn.execute(delete(table).where(table.c.pid.in_(self._reindex_pids)))
            self._reindex_pids = []
        if self._pending_resources:
            rows, self._pending_resources = list(self._pending_resources.values()), {}
            try:
                insert_rows(self.conn, R, rows)
            except IntegrityError as exc:
                ids = ", ".join(f"{r['resource_type']}/{r['fhir_id']}" for r in rows[:3])
                raise Conflict(f"A resource with the same id was created concurrently ({ids}…); retry") from exc
        if self._pending_versions:
            rows, self._pending_versions = self._pending_versions, []
            self._pending_keys = set()
            insert_rows(self.conn, V, rows)
        if self._pending_index:
            by_table = defaultdict(list)
            for rows in self._pending_index.values():
                for row_type, values in rows:
                    by_table[INDEX_TABLES[row_type]].append(values)
            self._pending_index = {}
            for table, rows in by_table.items():
                insert_rows(self.conn, table, rows)


_LOCK = text("SELECT count(pg_advisory_xact_lock(h)) "
             "FROM (SELECT unnest(CAST(:ids AS bigint[])) AS h ORDER BY 1) AS sorted")


def _lock_id(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def stamp(resource: dict, fhir_id: str, version_id: int, last_updated: datetime) -> dict:
    """A copy of the resource with the server-owned id and meta.versionId/lastUpdated."""
    meta = dict(resource.get("meta") or {})
    meta["versionId"] = str(version_id)
    meta["lastUpdated"] = format_instant(last_updated)
    # Keep id and meta first, as the spec's examples do: easier to read on the wire.
    stamped = {"resourceType": resource["resourceType"], "id": fhir_id, "meta": meta}
    stamped.update((k, v) for k, v in resource.items() if k not in stamped)
    return stamped


def _index_values(pid: int, resource_type: str, row) -> dict:
    values = {name: getattr(row, name) for name in row.__slots__}
    if isinstance(row, ix.StringIndex):
        values["value"] = values["value"][:_STRING_LIMIT]
        values["exact"] = values["exact"][:_STRING_LIMIT]
    values["pid"] = pid
    values["resource_type"] = resource_type
    return values


__all__ = ["Store", "StoreListener", "UnitOfWork", "StoredResource", "format_instant", "stamp", "utcnow"]
