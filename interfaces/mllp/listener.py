"""The asyncio MLLP listener: frames in, durable inbox, acks out.

Each connection is read frame by frame; a frame is judged (``intake.examine``),
committed with whatever else arrived meanwhile (``GroupCommitter``) and only then
acknowledged. When MSH-16 asks for an application ack, it follows on the same
connection once a worker of this process has processed the message.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from server.config import Settings
from server.inbox import intake
from server.inbox.redact import where
from server.storage.repository import utcnow

from .committer import GroupCommitter
from .framing import Decoder, frame

log = logging.getLogger("passerelle.mllp")
READ_CHUNK = 1 << 16


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.mllp_tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.mllp_tls_cert, settings.mllp_tls_key or None)
    if settings.mllp_tls_client_ca:
        context.load_verify_locations(settings.mllp_tls_client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class MllpListener:
    def __init__(self, settings: Settings, committer: GroupCommitter, app_acks):
        """``app_acks``: the ``AppAcks`` registry the workers resolve after processing."""
        self.settings = settings
        self.committer = committer
        self.app_acks = app_acks
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._connection, host, port, ssl=tls_context(self.settings),
                                                  limit=READ_CHUNK)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        source = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.connections += 1
        try:
            if self.connections > self.settings.mllp_max_connections:
                log.warning("MLLP connection from %s refused: %d connections open", source, self.connections - 1)
                return
            await self._serve(reader, writer, source)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            log.info("MLLP connection from %s ended: %s", source, type(exc).__name__)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001  (database down: drop the connection, unacknowledged)
            log.error("MLLP connection from %s failed: %s", source, where(exc))
        finally:
            self.connections -= 1
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader, writer, source: str) -> None:
        limit = self.settings.mllp_max_message_bytes
        decoder = Decoder(limit)
        idle = self.settings.mllp_idle_timeout_seconds or None
        awaiting: set[asyncio.Future] = set()  # application acks still to send here
        while True:
            try:
                data = await asyncio.wait_for(reader.read(READ_CHUNK), idle)
            except TimeoutError:
                if any(not f.done() for f in awaiting):
                    continue  # not idle: an application ack is on its way
                log.info("MLLP connection from %s idle for %ss: closed", source, idle)
                return
            if not data:
                if decoder.pending:
                    log.warning("MLLP connection from %s closed inside a frame (%d bytes): not acknowledged",
                                source, decoder.pending)
                return
            for received in decoder.feed(data):
                problem = (intake.oversize(limit) if received.oversize
                           else intake.truncated(received.payload) if received.truncated else None)
                pending = intake.examine(received.payload, channel="mllp", source=source, now=utcnow(),
                                         problem=problem, original_ack=self.settings.mllp_original_ack)
                verdict = await self.committer.submit(pending)
                for ack in verdict.acks:
                    writer.write(frame(ack))
                if verdict.wants_app_ack and not verdict.duplicate:
                    awaiting = {f for f in awaiting if not f.done()}
                    awaiting.add(self._follow(verdict.inbox_id, writer))
            await writer.drain()

    def _follow(self, inbox_id: int, writer: asyncio.StreamWriter) -> asyncio.Future:
        future = self.app_acks.take(inbox_id)

        def send(done: asyncio.Future) -> None:
            ack = done.result() if not done.cancelled() else None
            if ack and not writer.is_closing():
                writer.write(frame(ack))

        future.add_done_callback(send)
        return future
