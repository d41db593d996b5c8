"""``$reindex`` jobs: rebuild the index rows of stored resources, in the background.

The job's state is a ``reindex_job`` row, so any worker can report it and resume it.
A job walks the resources in pid order, one batch per transaction; the batch's index
rows and the job's progress (``last_pid``, ``done``) commit together, so a job stopped
anywhere resumes exactly after its last committed batch. Only resources that existed
when it was requested are covered (``max_pid``): later ones were indexed by their own
write, with the SearchParameters in effect then.

A worker runs a job in a thread after claiming it (``owner``, a lease renewed every
batch). A job nobody holds - its worker stopped cleanly (released) or died (lease
expired) - is taken over by the next worker that starts or that is asked its status.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from ..storage.db import refresh_statistics
from ..storage.jobs import ReindexJob
from ..storage.models import Resource
from ..storage.repository import Store, UnitOfWork

log = logging.getLogger(__name__)

J = ReindexJob.__table__
R = Resource.__table__
UNFINISHED = ("queued", "running")
DEFAULT_BATCH = 200
MAX_BATCH = 10_000
LEASE = timedelta(seconds=60)  # a batch takes well under a second; a silent minute means a dead worker
RETRIES = 5  # transient failures of a batch (SQLite busy, PostgreSQL deadlock) before the job fails


class LostClaim(Exception):
    """The job is no longer this worker's: taken over (this one was presumed dead) or deleted."""


def _types_key(resource_types: list[str] | None) -> str | None:
    return ",".join(sorted(set(resource_types))) if resource_types else None


def _live(types: str | None):
    conditions = [R.c.deleted.is_(False)]
    if types:
        conditions.append(R.c.resource_type.in_(types.split(",")))
    return conditions


def get_job(conn, job_id: str):
    return conn.execute(select(J).where(J.c.id == job_id)).first()


class Reindexer:
    def __init__(self, store: Store, *, lease: timedelta = LEASE):
        self.store = store
        self.lease = lease
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # Called after each committed batch; returning False stops the job as a worker
        # shutdown would (tests use it to interrupt a job between two batches).
        self.after_batch: Callable[[str], bool] | None = None
        self._threads: dict[str, threading.Thread] = {}
        self._threads_lock = threading.Lock()
        self._stopping = threading.Event()

    # -- requests ------------------------------------------------------------------------

    def submit(self, uow: UnitOfWork, resource_types: list[str] | None, batch_size: int | None = None):
        """The job reindexing these types: an unfinished one asking the same, else a new
        one. It starts once ``uow`` commits. Returns its row."""
        key = _types_key(resource_types)
        same = J.c.resource_types.is_(None) if key is None else J.c.resource_types == key
        existing = uow.conn.execute(select(J).where(same, J.c.status.in_(UNFINISHED))).first()
        job_id = existing.id if existing else str(uuid.uuid4())
        if existing is None:
            uow.flush()
            max_pid = uow.conn.execute(select(func.max(R.c.pid))).scalar() or 0
            total = uow.conn.execute(select(func.count()).where(R.c.pid <= max_pid, *_live(key))).scalar()
            uow.conn.execute(insert(J).values(
                id=job_id, resource_types=key, status="queued", batch_size=batch_size or DEFAULT_BATCH,
                max_pid=max_pid, last_pid=0, total=total, done=0, requested=uow.now))
        uow.after_commit.append(lambda: self.start(job_id))
        return get_job(uow.conn, job_id)

    def resume(self, job) -> None:
        """Take over an unfinished job that no live worker holds."""
        if job.status in UNFINISHED and (job.owner is None or job.heartbeat < self.store.clock() - self.lease):
            self.start(job.id)

    def resume_unfinished(self) -> None:
        """At startup: take over what a previous run of the server left unfinished."""
        with self.store.read() as uow:
            jobs = uow.conn.execute(select(J).where(J.c.status.in_(UNFINISHED))).all()
        for job in jobs:
            self.resume(job)

    def start(self, job_id: str) -> None:
        with self._threads_lock:
            running = self._threads.get(job_id)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(target=self._run, args=(job_id,), name=f"reindex-{job_id[:8]}", daemon=True)
            self._threads[job_id] = thread
        thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Server shutdown: finish the current batches and release the jobs."""
        self._stopping.set()
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def wait_all(self, timeout: float | None = None) -> None:
        """Let every job this worker runs finish (tests emptying the store between cases)."""
        for thread in list(self._threads.values()):
            thread.join(timeout)

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)

    # -- the worker thread ---------------------------------------------------------------

    def _run(self, job_id: str) -> None:
        try:
            if not self._claim(job_id):
                return
            log.info("reindex started", extra={"job": job_id, "worker": self.worker})
            while True:
                if self._batch_with_retries(job_id):
                    log.info("reindex completed", extra={"job": job_id})
                    refresh_statistics(self.store.engine)  # SQLite: the index rows were all rewritten
                    return
                if self._stopping.is_set() or (self.after_batch is not None and self.after_batch(job_id) is False):
                    self._release(job_id)
                    return
        except LostClaim:
            log.warning("reindex job no longer held by this worker", extra={"job": job_id})
        except Exception as exc:  # noqa: BLE001  (the job records why it failed; the thread must not die silently)
            log.exception("reindex failed", extra={"job": job_id})
            self._fail(job_id, f"{type(exc).__name__}: {exc}")

    def _claim(self, job_id: str) -> bool:
        with self.store.write() as uow:
            now = uow.now
            return uow.conn.execute(
                update(J)
                .where(J.c.id == job_id, J.c.status.in_(UNFINISHED),
                       or_(J.c.owner.is_(None), J.c.owner == self.worker, J.c.heartbeat < now - self.lease))
                .values(owner=self.worker, heartbeat=now, status="running", started=func.coalesce(J.c.started, now))
            ).rowcount == 1

    def _batch_with_retries(self, job_id: str) -> bool:
        for attempt in range(RETRIES):
            try:
                return self._batch(job_id)
            except OperationalError:
                if attempt == RETRIES - 1:
                    raise
                log.warning("reindex batch failed, retrying", extra={"job": job_id}, exc_info=True)
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def _batch(self, job_id: str) -> bool:
        """One batch in one transaction; True when the job is complete."""
        with self.store.write() as uow:
            job = get_job(uow.conn, job_id)
            if job is None or job.owner != self.worker:
                raise LostClaim(job_id)
            pids = list(uow.conn.execute(
                select(R.c.pid)
                .where(R.c.pid > job.last_pid, R.c.pid <= job.max_pid, *_live(job.resource_types))
                .order_by(R.c.pid)
                .limit(job.batch_size)
            ).scalars())
            mine = (J.c.id == job_id) & (J.c.owner == self.worker)
            if not pids:
                uow.conn.execute(update(J).where(mine).values(status="completed", finished=uow.now, owner=None))
                return True
            done = uow.reindex(pids)
            moved = uow.conn.execute(
                update(J).where(mine).values(last_pid=pids[-1], done=J.c.done + done, heartbeat=uow.now)
            ).rowcount
            if moved != 1:
                raise LostClaim(job_id)  # rolls this batch back: the new owner redoes it
            return False

    def _release(self, job_id: str) -> None:
        with self.store.write() as uow:
            uow.conn.execute(update(J).where(J.c.id == job_id, J.c.owner == self.worker)
                             .values(owner=None, status="queued"))
        log.info("reindex paused", extra={"job": job_id})

    def _fail(self, job_id: str, error: str) -> None:
        try:
            with self.store.write() as uow:
                uow.conn.execute(update(J).where(J.c.id == job_id, J.c.owner == self.worker)
                                 .values(status="failed", error=error[:4000], finished=uow.now, owner=None))
        except Exception:  # noqa: BLE001  (the database itself is failing: the lease will expire)
            log.exception("could not record the reindex failure", extra={"job": job_id})
