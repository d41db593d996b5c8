"""Splitting files into messages: FHS/BHS ... BTS/FTS batches and plain concatenations.

Tolerant of what senders do (a BHS or FHS without its trailer, a trailer without its
header), strict where a file is damaged: a segment that belongs to no MSH, an FHS
that is not first, anything after FTS, a BTS-1 count that disagrees with the
messages seen (a truncated batch). Each message comes back as its own bytes,
segments ended by CR.
"""

from __future__ import annotations

import re

from . import errors as E
from .errors import ParseError

_EOL = re.compile(rb"\r\n|\r|\n")


def split_batch(raw: bytes) -> list[bytes]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    lines = [line for line in _EOL.split(raw.strip(b"\x0b\x1c\r\n")) if line.strip()]
    messages: list[list[bytes]] = []
    batch_count = 0  # messages in the current batch
    closed_file = False
    in_message = False  # segments belong to the message of the last MSH until a header/trailer
    for n, line in enumerate(lines, 1):
        sid = line[:3]
        if closed_file:
            raise ParseError(f"line {n}: {sid.decode('latin-1')} after FTS", "FTS", 1, None,
                             E.SEGMENT_SEQUENCE)
        if sid == b"FHS":
            if n != 1:
                raise ParseError(f"line {n}: FHS is allowed only as the first segment", "FHS", 1, None,
                                 E.SEGMENT_SEQUENCE)
            in_message = False
        elif sid == b"BHS":
            batch_count, in_message = 0, False
        elif sid == b"BTS":
            _check_count(line, batch_count, n)
            batch_count, in_message = 0, False
        elif sid == b"FTS":
            closed_file, in_message = True, False
        elif sid == b"MSH":
            messages.append([line])
            batch_count += 1
            in_message = True
        elif not in_message:
            raise ParseError(f"line {n}: segment {sid.decode('latin-1')} outside any message (no MSH before it)",
                             sid.decode("latin-1"), 1, None, E.SEGMENT_SEQUENCE)
        else:
            messages[-1].append(line)
    return [b"\r".join(m) + b"\r" for m in messages]


def _check_count(bts: bytes, found: int, n: int) -> None:
    fs = bts[3:4]
    fields = bts.split(fs) if fs else [bts]
    count = fields[1].strip() if len(fields) > 1 else b""
    if count.isdigit() and int(count) != found:
        raise ParseError(f"line {n}: BTS-1 announces {int(count)} messages, the batch holds {found}",
                         "BTS", 1, 1, E.SEGMENT_SEQUENCE)
