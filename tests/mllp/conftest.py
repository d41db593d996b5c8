"""A real HL7 v2 channel (MLLP listener + inbox workers) on the test server's database."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest

from interfaces.mllp.channel import Channel
from interfaces.mllp.client import Connection, Reply


class RunningChannel:
    """The channel on an asyncio loop of its own thread; a small synchronous client for tests."""

    def __init__(self, ctx, settings):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.channel = Channel(ctx, settings)
        self.port = self._run(self.channel.start(port=0))

    def _run(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self._run(self.channel.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def send(self, *payloads: bytes, timeout: float = 30) -> list[Reply]:
        """Send on one connection, one at a time; the replies in order."""

        async def go():
            connection = await Connection.open("127.0.0.1", self.port)
            try:
                return [await connection.send(p, timeout=timeout) for p in payloads]
            finally:
                await connection.close()

        return asyncio.run(go())


@pytest.fixture
def channel_settings(server):
    return replace(server.ctx.settings, inbox_workers=2, inbox_lease_seconds=30, mllp_max_message_bytes=64 * 1024,
                   mllp_idle_timeout_seconds=5)


@pytest.fixture
def channel(server, channel_settings):
    running = RunningChannel(server.ctx, channel_settings)
    yield running
    running.stop()
