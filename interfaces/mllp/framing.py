"""MLLP framing (HL7 v2.5.1 Appendix C): 0x0B message 0x1C 0x0D. Pure, incremental.

``Decoder.feed`` takes bytes as they arrive and returns the complete frames. Bytes
outside a frame are skipped; a start block inside a frame means the previous frame was
cut off (reported, so it can be answered); a frame past the size limit is reported once
and the rest of it skipped, so memory stays bounded whatever a peer sends.
"""

from __future__ import annotations

from dataclasses import dataclass

START = b"\x0b"
END = b"\x1c\x0d"
_END_BLOCK = 0x1C
# How much of an oversized or truncated frame is kept: enough to read its MSH for the ack.
HEAD_BYTES = 4096


def frame(payload: bytes) -> bytes:
    return START + payload + END


@dataclass(frozen=True)
class Frame:
    payload: bytes
    truncated: bool = False  # a new start block came before this frame's end
    oversize: bool = False  # past the limit: payload is its first HEAD_BYTES only


class Decoder:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._inside = False
        self._skipping = False  # inside an oversized frame, waiting for its end

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        view = memoryview(data)
        pos, n = 0, len(data)
        while pos < n:
            if not self._inside:
                start = data.find(START, pos)
                if start < 0:
                    break
                self._inside, self._skipping = True, False
                self._buf.clear()
                pos = start + 1
                continue
            end = data.find(_END_BLOCK, pos)
            stop = n if end < 0 else end
            restart = data.find(START, pos, stop)
            if restart >= 0:  # the sender started over: what we had is a cut-off frame
                self._take(view[pos:restart])
                frames.append(self._emit(truncated=True))
                self._inside = False
                pos = restart
                continue
            self._take(view[pos:stop])
            if end < 0:
                break
            frames.append(self._emit())
            self._inside = False
            pos = end + 1  # the 0x0D after 0x1C, if any, is skipped as outside bytes
        return frames

    def _take(self, chunk) -> None:
        if self._skipping:
            return
        self._buf += chunk
        if len(self._buf) > self.max_bytes:
            self._skipping = True
            del self._buf[min(HEAD_BYTES, self.max_bytes):]

    def _emit(self, truncated: bool = False) -> Frame:
        payload = bytes(self._buf)
        self._buf.clear()
        if self._skipping:
            self._skipping = False
            return Frame(payload, oversize=True)
        return Frame(payload, truncated=truncated)

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held (0 between frames)."""
        return len(self._buf) if self._inside else 0
