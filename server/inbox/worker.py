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
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from mappers.hl7v2 import MappingConfig, parse, to_bundle
from mappers.hl7v2.errors import INTERNAL_ERROR, ParseError

from ..bundles.processor import process_bundle
from ..context import AppContext
from ..errors import FhirError
from ..storage.db import WRITE
from ..storage.repository import utcnow
from . import ack, merge, queue
from .intake import APPLICATION, COMMIT, ERROR, REJECT, new_control_id
from .redact import where
from .models import DEAD, DONE

log = logging.getLogger("passerelle.inbox")
_settling: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("inbox_settling", default=None)

LOST = "lost"  # the claim went to another worker (or will come back after its lease)
CONFLICT_RETRIES = 3
GROUP_LOCK = "passerelle:inbox:group"
MAX_ATTEMPTS = 5  # claims of one message ending in a database error before it is a dead letter
# Told (inbox id, application ack or None) once a message is settled, e.g. to send the ack.
Settled = Callable[[int, bytes | None], None]


class SettleInTransaction:
    """Store listener: the first write unit of work opened while messages are being
    processed settles them as done, in the same database transaction."""

    def begin(self, uow, *, write: bool) -> None:
        pending = _settling.get()
        if not write or pending is None or pending[1]:
            return
        settled, done = pending
        done.append(True)
        if len(settled) > 1:
            # Grouped transactions run one at a time (PostgreSQL; SQLite has one writer anyway):
            # each writes several patients, so the identity matcher locks several sets of keys,
            # one patient after the other; two groups doing that in parallel could deadlock.
            uow.lock([GROUP_LOCK])
        queue.settle_many(uow.conn, settled, DONE, now=uow.now)

    def writing(self, uow, resource_type, fhir_id, resource) -> None:
        pass


def install(ctx: AppContext) -> None:
    """Register the listener once per store."""
    if not any(isinstance(x, SettleInTransaction) for x in ctx.store.listeners):
        ctx.store.listeners.append(SettleInTransaction())


@dataclass
class Mapped:
    """A claimed message mapped to its transaction Bundle, with its ack due on success."""

    item: queue.Claimed
    env: ack.Envelope
    bundle: dict
    app_ack: bytes | None


Outcome = tuple[str, bytes | None]  # done | dead | lost, and the application ack to send (if any)


def process(ctx: AppContext, item: queue.Claimed, config: MappingConfig | None = None, *,
            original_ack: str = COMMIT) -> Outcome:
    """Map and store one claimed message; returns (done | dead, application ack if one is due).
    ``original_ack`` APPLICATION: original-mode messages get their ack from here too."""
    mapped = map_message(ctx, item, config, original_ack)
    return store(ctx, mapped, original_ack) if isinstance(mapped, Mapped) else mapped


def map_message(ctx: AppContext, item: queue.Claimed, config: MappingConfig | None,
                original_ack: str = COMMIT) -> Mapped | Outcome:
    """The message's Bundle, outside any database transaction; a message that cannot be
    parsed or mapped is dead-lettered here (its Outcome is returned)."""
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
    return Mapped(item, env, bundle, app_ack)


def store(ctx: AppContext, mapped: Mapped, original_ack: str = COMMIT) -> Outcome:
    """Store one message's Bundle and settle it in the same transaction (dead letter if
    the Bundle is refused)."""
    item, env, app_ack = mapped.item, mapped.env, mapped.app_ack
    for attempt in range(1, CONFLICT_RETRIES + 1):
        done: list[bool] = []
        token = _settling.set(([(item, app_ack)], done))
        try:
            process_bundle(ctx, mapped.bundle, {"return": "minimal"}, ctx.settings.base_url)
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
    if not done and not _settle_alone(ctx, [(item, app_ack)]):  # the Bundle opened no write transaction
        return LOST, None
    return DONE, app_ack


def store_together(ctx: AppContext, group: list[Mapped]) -> bool:
    """Store several messages' Bundles in ONE transaction (``merge``), settling them all in
    it. False if that failed for any reason: nothing of it was kept, and the caller
    stores them one by one (so that only a faulty message becomes a dead letter)."""
    settled = [(m.item, m.app_ack) for m in group]
    done: list[bool] = []
    token = _settling.set((settled, done))
    try:
        process_bundle(ctx, merge.merge([m.bundle for m in group]), {"return": "minimal"}, ctx.settings.base_url)
    except Exception as exc:  # noqa: BLE001  (each one alone will say which, and dead-letter only that one)
        log.info("inbox messages %s-%s: storing them together failed (%s); one by one now",
                 group[0].item.id, group[-1].item.id, where(exc))
        return False
    finally:
        _settling.reset(token)
    return bool(done) or _settle_alone(ctx, settled)


def _settle_alone(ctx: AppContext, settled: list[tuple[queue.Claimed, bytes | None]]) -> bool:
    try:
        with ctx.store.engine.execution_options(**WRITE).begin() as conn:
            queue.settle_many(conn, settled, DONE, now=utcnow())
    except queue.LostClaim:
        return False
    return True


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
                 original_ack: str = COMMIT, together: bool = True):
        install(ctx)
        self.ctx = ctx
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.config = config or mapping_config(ctx.settings)
        self.on_settled = on_settled
        self.original_ack = original_ack
        self.together = together  # store a claimed batch in shared transactions (merge.groups)
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
        items = self.claim_batch(ids)
        self.process_batch(items)
        return len(items)

    def claim_batch(self, ids: list[int] | None = None) -> list[queue.Claimed]:
        with self.ctx.store.engine.execution_options(**WRITE).begin() as conn:
            return queue.claim(conn, now=utcnow(), lease_seconds=self.lease_seconds, limit=self.batch, ids=ids)

    def process_batch(self, items: list[queue.Claimed]) -> None:
        """Map every claimed message, then store them in groups (``merge``): one
        transaction per group of Bundles that do not touch the same targets."""
        mapped: list[Mapped] = []
        for item in items:
            result = map_message(self.ctx, item, self.config, self.original_ack)
            if isinstance(result, Mapped):
                mapped.append(result)
            else:
                self._settled(item, result)
        if self.together:
            groups = merge.groups([m.bundle for m in mapped], self.ctx.settings.max_bundle_entries)
        else:
            groups = [[i] for i in range(len(mapped))]
        for group in groups:
            members = [mapped[i] for i in group]
            if len(members) > 1 and store_together(self.ctx, members):
                for m in members:
                    self._settled(m.item, (DONE, m.app_ack))
                continue
            for m in members:
                self._settled(m.item, store(self.ctx, m, self.original_ack))

    def _settled(self, item: queue.Claimed, outcome: Outcome) -> None:
        state, app_ack = outcome
        if state != LOST and self.on_settled is not None:
            self.on_settled(item.id, app_ack)

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
