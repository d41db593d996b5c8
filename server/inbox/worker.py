"""Processing: map each claimed message with ``to_bundle`` and store its Bundle, exactly once.

Exactly once: the row is settled as done INSIDE the transaction that stores the
resources. ``process_bundle`` opens that transaction itself, so a store listener
(``SettleInTransaction``) settles the row when it begins; if the Bundle fails, both roll
back and the row goes to the dead-letter state in a transaction of its own. A worker
killed at any point leaves either both or neither, and the lease brings the row back.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

from mappers.hl7v2 import MappingConfig, parse, to_bundle
from mappers.hl7v2.errors import INTERNAL_ERROR, ParseError

from ..bundles.processor import process_bundle
from ..context import AppContext
from ..errors import FhirError
from ..storage.db import WRITE
from ..storage.repository import utcnow
from . import ack, queue
from .intake import APPLICATION, COMMIT, ERROR, REJECT, new_control_id
from .redact import where
from .models import DEAD, DONE

log = logging.getLogger("passerelle.inbox")
_settling: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("inbox_settling", default=None)

LOST = "lost"  # the claim went to another worker (or will come back after its lease)
CONFLICT_RETRIES = 3
MAX_ATTEMPTS = 5  # claims of one message ending in a database error before it is a dead letter
# Told (inbox id, application ack or None) once a message is settled, e.g. to send the ack.
Settled = Callable[[int, bytes | None], None]


class SettleInTransaction:
    """Store listener: the first write unit of work opened while a message is being
    processed settles that message as done, in the same database transaction."""

    def begin(self, uow, *, write: bool) -> None:
        pending = _settling.get()
        if not write or pending is None or pending[2]:
            return
        item, app_ack, done = pending
        done.append(True)
        queue.settle(uow.conn, item, DONE, now=uow.now, app_ack=app_ack)

    def writing(self, uow, resource_type, fhir_id, resource) -> None:
        pass


def install(ctx: AppContext) -> None:
    """Register the listener once per store."""
    if not any(isinstance(x, SettleInTransaction) for x in ctx.store.listeners):
        ctx.store.listeners.append(SettleInTransaction())


def process(ctx: AppContext, item: queue.Claimed, config: MappingConfig | None = None, *,
            original_ack: str = COMMIT) -> tuple[str, bytes | None]:
    """Map and store one claimed message; returns (done | dead, application ack if one is due).
    ``original_ack`` APPLICATION: original-mode messages get their ack from here too."""
    env = ack.Envelope.salvage(item.raw)
    try:
        message = parse(item.raw)
        env = ack.Envelope.of(message)
        bundle = to_bundle(message, config)
    except ParseError as exc:
        return _dead(ctx, item, env, exc, original_ack)
    except Exception as exc:  # noqa: BLE001  (a mapper bug must not lose the message: dead-letter it)
        log.error("inbox message %s: the mapping failed unexpectedly: %s", item.id, where(exc))
        error = ParseError(f"internal error while mapping ({type(exc).__name__})", "MSH", 1, None, INTERNAL_ERROR)
        return _dead(ctx, item, env, error, original_ack)
    app_ack = _app_ack("AA", env) if _app_ack_due(env, True, original_ack) else None
    for attempt in range(1, CONFLICT_RETRIES + 1):
        done: list[bool] = []
        token = _settling.set((item, app_ack, done))
        try:
            process_bundle(ctx, bundle, {"return": "minimal"}, ctx.settings.base_url)
            break
        except queue.LostClaim:
            log.info("inbox message %s: claim lost to another worker", item.id)
            return LOST, None
        except FhirError as exc:
            if exc.status == 409 and attempt < CONFLICT_RETRIES:
                continue  # a concurrent writer changed a resource this Bundle updates: run it again
            place = ", ".join(exc.expression) or "Bundle"
            error = ParseError(f"storing the mapped Bundle failed ({exc.status} at {place}): {exc.diagnostics}",
                               "MSH", 1, None, INTERNAL_ERROR)
            return _dead(ctx, item, env, error, original_ack)
        except DBAPIError as exc:
            if item.attempts < MAX_ATTEMPTS:  # the database went away: leave the claim, its lease brings it back
                log.error("inbox message %s: database error, retried after the lease: %s", item.id, where(exc))
                return LOST, None
            error = ParseError(f"the database refused the Bundle {item.attempts} times ({type(exc).__name__})",
                               "MSH", 1, None, INTERNAL_ERROR)
            return _dead(ctx, item, env, error, original_ack)
        except Exception as exc:  # noqa: BLE001  (a bug must not lose the message: dead-letter it)
            log.error("inbox message %s: storing failed unexpectedly: %s", item.id, where(exc))
            error = ParseError(f"internal error while storing ({type(exc).__name__})", "MSH", 1, None,
                               INTERNAL_ERROR)
            return _dead(ctx, item, env, error, original_ack)
        finally:
            _settling.reset(token)
    if not done:  # the Bundle wrote nothing (no transaction opened): settle on our own
        try:
            with ctx.store.engine.execution_options(**WRITE).begin() as conn:
                queue.settle(conn, item, DONE, now=utcnow(), app_ack=app_ack)
        except queue.LostClaim:
            return LOST, None
    return DONE, app_ack


def _dead(ctx: AppContext, item: queue.Claimed, env: ack.Envelope, error: ParseError, original_ack: str):
    codes = REJECT if error.code.startswith("2") else ERROR
    app_ack = _app_ack(codes[0], env, error) if _app_ack_due(env, False, original_ack) else None
    try:
        with ctx.store.engine.execution_options(**WRITE).begin() as conn:
            queue.settle(conn, item, DEAD, now=utcnow(), error=str(error)[:4000], app_ack=app_ack)
    except queue.LostClaim:
        return LOST, None
    log.warning("inbox message %s dead-lettered: %s at %s (HL7 0357 code %s)", item.id, type(error).__name__,
                error.location, error.code)
    return DEAD, app_ack


def _app_ack_due(env: ack.Envelope, success: bool, original_ack: str) -> bool:
    """Enhanced mode: as MSH-16 asks; original mode: when the channel acks after mapping."""
    if env.enhanced:
        return ack.wants(env.application_ack_type, success)
    return original_ack == APPLICATION


def _app_ack(code: str, env: ack.Envelope, error: ParseError | None = None) -> bytes:
    return ack.build(code, env, control_id=new_control_id(), now=utcnow(), error=error)


def mapping_config(settings) -> MappingConfig | None:
    """The site's mapping configuration (PASSERELLE_HL7_MAPPING), read once per process."""
    return MappingConfig.load(settings.hl7_mapping) if settings.hl7_mapping else None


class Workers:
    """Threads that claim and process inbox rows until stopped; ``wake()`` after new rows."""

    def __init__(self, ctx: AppContext, *, threads: int, lease_seconds: float, poll_seconds: float = 1.0,
                 batch: int = 16, config: MappingConfig | None = None, on_settled: Settled | None = None,
                 original_ack: str = COMMIT):
        install(ctx)
        self.ctx = ctx
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.config = config or mapping_config(ctx.settings)
        self.on_settled = on_settled
        self.original_ack = original_ack
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name=f"inbox-worker-{i}", daemon=True)
                         for i in range(threads)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def run_once(self, ids: list[int] | None = None) -> int:
        """Claim one batch and process it; returns how many were claimed."""
        with self.ctx.store.engine.execution_options(**WRITE).begin() as conn:
            items = queue.claim(conn, now=utcnow(), lease_seconds=self.lease_seconds, limit=self.batch, ids=ids)
        for item in items:
            state, app_ack = process(self.ctx, item, self.config, original_ack=self.original_ack)
            if state != LOST and self.on_settled is not None:
                self.on_settled(item.id, app_ack)
        return len(items)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.run_once()
            except Exception as exc:  # noqa: BLE001  (database down: keep the thread, retry after a pause)
                log.error("inbox worker: claiming or settling failed: %s", where(exc))
                claimed = 0
            if not claimed:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
