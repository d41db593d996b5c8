"""The HL7 v2 channel of one process: MLLP listener, group committer, inbox workers.

``passerelle serve`` runs it beside the API in one asyncio loop; ``passerelle mllp``
runs it alone. Workers of every process share the inbox (claims in the database).
"""

from __future__ import annotations

import asyncio
import threading

from server.config import Settings
from server.context import AppContext
from server.inbox.intake import APPLICATION, COMMIT, Verdict
from server.inbox.worker import Workers

from .committer import GroupCommitter
from .listener import MllpListener

INBOX_BATCH = 16


class AppAcks:
    """Application acks awaited by open connections, resolved by the workers."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._lock = threading.Lock()
        self._futures: dict[int, asyncio.Future] = {}
        self._half: set[int] = set()  # ids seen by one side (connection or worker) so far

    def expect(self, verdicts: list[Verdict]) -> None:
        """Commit thread, before the connection is answered: so no settle can come first."""
        with self._lock:
            for v in verdicts:
                if v.wants_app_ack and not v.duplicate:
                    self._futures[v.inbox_id] = self.loop.create_future()

    def take(self, inbox_id: int) -> asyncio.Future:
        """The connection's handle on the ack (maybe already resolved: workers can be quick)."""
        with self._lock:
            future = self._futures[inbox_id]
            self._release(inbox_id)
        return future

    def settled(self, inbox_id: int, ack: bytes | None) -> None:
        with self._lock:
            future = self._futures.get(inbox_id)
            if future is None:
                return  # received by another process, or nobody waits
            self._release(inbox_id)
        self.loop.call_soon_threadsafe(_resolve, future, ack)

    def _release(self, inbox_id: int) -> None:
        """Forget the future once both the connection and the worker have seen it."""
        if inbox_id in self._half:
            self._half.discard(inbox_id)
            del self._futures[inbox_id]
        else:
            self._half.add(inbox_id)


def _resolve(future: asyncio.Future, ack: bytes | None) -> None:
    if not future.done():
        future.set_result(ack)


class Channel:
    def __init__(self, ctx: AppContext, settings: Settings | None = None, *, inbox_batch: int = INBOX_BATCH):
        self.ctx = ctx
        self.settings = settings or ctx.settings
        self.inbox_batch = inbox_batch  # messages a worker claims at once, stored in shared transactions
        self.port: int | None = None
        self._workers: Workers | None = None
        self._committer: GroupCommitter | None = None
        self._listener: MllpListener | None = None

    async def start(self, port: int | None = None) -> int | None:
        """Start the workers, and the listener on ``port`` (default: the settings'; there
        0 means no listener, here an ephemeral port); returns the port listened on."""
        s = self.settings
        acks = AppAcks(asyncio.get_running_loop())
        if s.mllp_original_ack not in (COMMIT, APPLICATION):
            raise ValueError(f"PASSERELLE_MLLP_ORIGINAL_ACK is {s.mllp_original_ack!r}: "
                             f"{COMMIT!r} or {APPLICATION!r} expected")
        self._workers = Workers(self.ctx, threads=s.inbox_workers, lease_seconds=s.inbox_lease_seconds,
                                batch=self.inbox_batch,
                                on_settled=acks.settled, original_ack=s.mllp_original_ack)
        self._workers.start()
        if port is None and not s.mllp_port:
            return None

        def stored(verdicts: list[Verdict]) -> None:
            acks.expect(verdicts)
            self._workers.wake()

        self._committer = GroupCommitter(self.ctx.store.engine, on_stored=stored)
        self._listener = MllpListener(s, self._committer, acks)
        self.port = await self._listener.start(s.mllp_host, s.mllp_port if port is None else port)
        return self.port

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.close()
        loop = asyncio.get_running_loop()
        if self._committer is not None:
            await loop.run_in_executor(None, self._committer.close)
        if self._workers is not None:
            await loop.run_in_executor(None, self._workers.stop)
