"""Time limit and slow-search log for every search.

Time limit (``PASSERELLE_SEARCH_TIMEOUT_MS``): a search that runs past it is stopped by
the database and answered with an OperationOutcome ``too-costly``, status 400. Not 503:
the cause is the request (too broad, too many includes), not a passing overload, and a
503 invites clients and proxies to retry the very query that overran. The remedy is on
the client's side, which is what a 4xx says.

* PostgreSQL: ``SET LOCAL statement_timeout`` to the time left, for the rest of the
  transaction (so each statement of the search gets at most what was left when the
  limit was applied), then back to the default, since a transaction Bundle keeps
  writing on the same transaction after its searches.
* SQLite: a progress handler, called every few thousand virtual machine steps, that
  aborts the running statement once the deadline has passed; it covers the whole search.

Slow-search log (``PASSERELLE_SLOW_QUERY_MS``): one structured line on the
``passerelle.search`` logger with the resource types, the parameter NAMES and the
duration. Never the values: they are patient data (names, birth dates, identifiers).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from server import jsonio
from server.errors import TooCostly

log = logging.getLogger("passerelle.search")

_PG_QUERY_CANCELED = "57014"
_SQLITE_STEPS = 1000  # VM instructions between deadline checks: microseconds apart


@dataclass(frozen=True)
class SearchLimits:
    timeout_ms: int | None = None  # None or 0: no limit
    slow_ms: int | None = None  # None: no slow-search log

    @classmethod
    def of(cls, settings) -> SearchLimits:
        return cls(settings.search_timeout_ms, settings.slow_query_ms)


class Deadline:
    """The moment a search must be over; ``applied(conn)`` makes a connection enforce it."""

    def __init__(self, timeout_ms: int | None):
        self.timeout_ms = timeout_ms or None
        self.end = time.monotonic() + self.timeout_ms / 1000 if self.timeout_ms else None

    def left_ms(self) -> int:
        return max(1, int((self.end - time.monotonic()) * 1000))

    @contextmanager
    def applied(self, conn: Connection) -> Iterator[None]:
        if self.end is None:
            yield
            return
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(self.left_ms())})
        else:
            raw = conn.connection.driver_connection
            raw.set_progress_handler(lambda: time.monotonic() > self.end, _SQLITE_STEPS)
        try:
            yield
        except OperationalError as exc:
            _raise_if_timed_out(exc, self.timeout_ms)
            raise
        else:
            if postgres:  # after an error the transaction is rolled back, and the setting with it
                conn.execute(text("SET LOCAL statement_timeout TO DEFAULT"))
        finally:
            if not postgres:  # pooled connections outlive the search
                conn.connection.driver_connection.set_progress_handler(None, _SQLITE_STEPS)


@contextmanager
def lookup_limit(uow, timeout_ms: int | None) -> Iterator[None]:
    """The time limit of a look-up a write makes (conditional criteria, references).

    A write makes several in a row (a transaction Bundle's conditional entries): on
    PostgreSQL the unit of work sets the limit at the first and lifts it before it writes
    (``UnitOfWork.limit_statements``), two statements per transaction instead of two per
    look-up. SQLite needs no statement: as for searches, a progress handler."""
    if not timeout_ms:
        yield
        return
    if uow.conn.dialect.name != "postgresql":
        with Deadline(timeout_ms).applied(uow.conn):
            yield
        return
    uow.limit_statements(timeout_ms)
    try:
        yield
    except OperationalError as exc:
        _raise_if_timed_out(exc, timeout_ms)
        raise


def _raise_if_timed_out(exc: OperationalError, timeout_ms: int) -> None:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _PG_QUERY_CANCELED or "interrupted" in str(orig):
        raise TooCostly(
            f"The search ran longer than the limit of {timeout_ms} ms and was stopped. Narrow it: "
            "more selective criteria, fewer _include/_revinclude, _total=none",
        ) from exc


@contextmanager
def slow_search_log(limits: SearchLimits, interaction: str, types, param_names) -> Iterator[None]:
    """Log the search if it took ``limits.slow_ms`` or more (failed and timed-out ones too)."""
    started = time.monotonic()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except TooCostly:
        outcome = "timeout"
        raise
    finally:
        ms = (time.monotonic() - started) * 1000
        if limits.slow_ms is not None and ms >= limits.slow_ms:
            line = {"event": "slow_search", "interaction": interaction, "types": list(types),
                    "params": list(dict.fromkeys(param_names)), "ms": round(ms, 1), "outcome": outcome}
            log.warning("%s", jsonio.dumps(line).decode())
