"""An MLLP client: send messages one at a time, collect their acks (``passerelle send``).

One message in flight per connection, as MLLP peers expect. After a commit ack (CA),
the client also waits for the application ack when the message's MSH-16 asks for one.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from mappers.hl7v2 import ParseError, parse

from .framing import Decoder, frame

COMMIT_ACCEPT = "CA"


@dataclass(frozen=True)
class Reply:
    acks: list[bytes]

    @property
    def codes(self) -> list[str]:
        return [ack_code(a) for a in self.acks]


def ack_code(ack: bytes) -> str:
    """MSA-1 of an ack ("" when unreadable)."""
    try:
        msa = parse(ack).segment("MSA")
    except ParseError:
        return ""
    return msa.get(1) if msa is not None else ""


def wants_app_ack(payload: bytes) -> bool:
    try:
        h = parse(payload).header
    except ParseError:
        return False
    return bool(h.accept_ack_type or h.application_ack_type) and h.application_ack_type not in ("NE", "ER")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_bytes: int):
        self.reader, self.writer = reader, writer
        self._decoder = Decoder(max_bytes)
        self._frames: list[bytes] = []

    @classmethod
    async def open(cls, host: str, port: int, *, tls: ssl.SSLContext | None = None,
                   max_bytes: int = 8 << 20) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, ssl=tls)
        return cls(reader, writer, max_bytes)

    async def send(self, payload: bytes, *, timeout: float = 30) -> Reply:
        self.writer.write(frame(payload))
        await self.writer.drain()
        acks = [await self._next(timeout)]
        if ack_code(acks[0]) == COMMIT_ACCEPT and wants_app_ack(payload):
            acks.append(await self._next(timeout))
        return Reply(acks)

    async def _next(self, timeout: float) -> bytes:
        while not self._frames:
            data = await asyncio.wait_for(self.reader.read(1 << 16), timeout)
            if not data:
                raise ConnectionError("the peer closed the connection before acknowledging")
            self._frames.extend(f.payload for f in self._decoder.feed(data))
        return self._frames.pop(0)

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass
