"""Group commit: messages from every connection share one inbox transaction.

Connections ``await submit(...)``; one thread takes everything queued meanwhile, stores
it in one transaction (``server.inbox.intake.store``) and only then answers each
connection. Under load one commit carries many messages; alone, a message waits for
nobody. A failed commit answers its messages with an exception: no ack is sent for them.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from server.inbox.intake import Pending, Verdict, store
from server.inbox.redact import where
from server.storage.db import WRITE

log = logging.getLogger("passerelle.mllp")
MAX_BATCH = 1000


class GroupCommitter:
    def __init__(self, engine: Engine, *, on_stored: Callable[[list[Verdict]], None] | None = None):
        """``on_stored`` runs in the commit thread right after a commit, before any answer
        (e.g. register waiters for application acks, then wake the workers)."""
        self._writer = engine.execution_options(**WRITE)
        self._on_stored = on_stored
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inbox-committer", daemon=True)
        self._thread.start()

    async def submit(self, pending: Pending) -> Verdict:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((pending, loop, future))
        return await future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list) -> None:
        try:
            with self._writer.begin() as conn:
                verdicts = store(conn, [pending for pending, _, _ in batch])
            if self._on_stored is not None:
                self._on_stored(verdicts)
        except Exception as exc:  # noqa: BLE001  (the database is down: the senders will retry)
            if len(batch) > 1:  # one bad row must not cost the others their ack: one by one
                for item in batch:
                    self._commit([item])
                return
            log.error("inbox commit failed, the message is not acknowledged: %s", where(exc))
            for _, loop, future in batch:
                loop.call_soon_threadsafe(_fail, future, exc)
            return
        for (_, loop, future), verdict in zip(batch, verdicts, strict=True):
            loop.call_soon_threadsafe(_answer, future, verdict)


def _answer(future: asyncio.Future, verdict: Verdict) -> None:
    if not future.done():
        future.set_result(verdict)


def _fail(future: asyncio.Future, exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
