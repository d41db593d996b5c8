"""Fast, tolerant ER7 parsing: bytes or text in, a ``Message`` out.

Tolerated as real feeds send them: CR, LF or CRLF segment ends, a UTF-8 byte-order
mark, MLLP framing bytes left in, blank lines, trailing empty fields, a fifth
(truncation) encoding character. Refused with a ``ParseError`` naming the place:
no MSH, bad separators, a missing MSH-9/MSH-10/MSH-12, an unsupported version, a
segment id that is not one (a truncated frame).
"""

from __future__ import annotations

import re

from . import errors as E
from .errors import ParseError
from .escape import unescape
from .message import Encoding, Header, Message, Segment

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
_VERSION = re.compile(r"2\.(\d)(\.\d+)*\Z")
_BOM = "\ufeff"

# MSH-18 (HL7 table 0211) -> Python codec.
CHARSETS = {
    "": None, "ASCII": "ascii", "8859/1": "latin-1", "8859/2": "iso8859-2", "8859/3": "iso8859-3",
    "8859/4": "iso8859-4", "8859/5": "iso8859-5", "8859/6": "iso8859-6", "8859/7": "iso8859-7",
    "8859/8": "iso8859-8", "8859/9": "iso8859-9", "8859/15": "iso8859-15", "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8", "UTF-8": "utf-8", "UNICODE UTF-16": "utf-16", "UNICODE UTF-32": "utf-32",
    "ISO IR100": "latin-1", "ISO IR6": "ascii", "ISO IR192": "utf-8",
}


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a message and the codec it was read with: MSH-18 when it names one,
    else UTF-8, else ISO 8859-1 (which cannot fail)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    codec = CHARSETS.get(_charset_field(raw).upper())
    if codec:
        try:
            return raw.decode(codec), codec
        except UnicodeDecodeError:
            pass  # a feed that lies about its charset: fall through to the guess
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _charset_field(raw: bytes) -> str:
    """MSH-18's first repetition, read from the bytes (ASCII-safe) before decoding."""
    start = raw.find(b"MSH")
    if start < 0 or len(raw) < start + 4:
        return ""
    fs = raw[start + 3:start + 4]
    end = len(raw)
    for eol in (b"\r", b"\n"):
        i = raw.find(eol, start)
        if 0 <= i < end:
            end = i
    fields = raw[start:end].split(fs)
    if len(fields) <= 17:
        return ""
    rep = raw[start + 5:start + 6] if len(raw) > start + 5 else b"~"
    return fields[17].split(rep)[0].decode("latin-1").strip()


def parse(raw: bytes | str) -> Message:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        text, charset = decode(bytes(raw))
    else:
        text, charset = raw, "utf-8"
    text = text.strip("\x0b\x1c\r\n \t").lstrip(_BOM)
    if "\n" in text:
        text = text.replace("\r\n", "\r").replace("\n", "\r")
    lines = [line for line in text.split("\r") if line.strip()]
    if not lines or not lines[0].startswith("MSH"):
        raise ParseError("the message does not start with an MSH segment", "MSH", 1, None, E.SEGMENT_SEQUENCE)
    enc = _encoding(lines[0])
    fs = enc.field
    segments: list[Segment] = []
    counts: dict[str, int] = {}
    valid = _VALID_IDS
    for position, line in enumerate(lines):
        line = line.rstrip(" \t")
        name = line[:3]
        if (len(line) > 3 and line[3] != fs) or (name not in valid and not _valid_id(name)):
            written = line.split(fs, 1)[0]
            previous = segments[-1].name if segments else "MSH"
            raise ParseError(f"segment {position + 1} has no valid segment id ({written[:10]!r}): "
                             "truncated or corrupted message", name or previous,
                             counts.get(name, 0) + 1, None, E.SEGMENT_SEQUENCE)
        if name == "MSH" and position:  # a second MSH: two messages in one frame
            raise ParseError("a second MSH segment inside one message (use split_batch for files)",
                             "MSH", counts["MSH"] + 1, None, E.SEGMENT_SEQUENCE)
        seq = counts.get(name, 0) + 1
        counts[name] = seq
        segments.append(Segment(name, line, position, seq, enc, charset))
    header = _header(segments[0])
    return Message(segments, enc, header, charset)


_VALID_IDS: set[str] = set()  # segment ids seen valid (fields are split only when read)


def _valid_id(name: str) -> bool:
    if _SEGMENT_ID.match(name):
        if len(_VALID_IDS) < 10_000:
            _VALID_IDS.add(name)
        return True
    return False


def _encoding(msh: str) -> Encoding:
    if len(msh) < 4:
        raise ParseError("MSH is truncated before its field separator", "MSH", 1, 1, E.REQUIRED_FIELD_MISSING)
    fs = msh[3]
    if fs.isalnum() or fs in " \r\n":
        raise ParseError(f"invalid field separator {fs!r}", "MSH", 1, 1, E.DATA_TYPE_ERROR)
    end = msh.find(fs, 4)
    chars = msh[4:end] if end >= 0 else msh[4:]
    if len(chars) < 4:
        raise ParseError(f"MSH-2 must hold 4 encoding characters, found {len(chars)} ({chars!r})",
                         "MSH", 1, 2, E.DATA_TYPE_ERROR)
    if len(chars) > 5:  # the fifth is the v2.7 truncation character
        raise ParseError(f"MSH-2 holds {len(chars)} encoding characters ({chars!r}), at most 5 allowed",
                         "MSH", 1, 2, E.DATA_TYPE_ERROR)
    if len(set(chars + fs)) != len(chars) + 1 or any(c.isalnum() or c.isspace() for c in chars):
        raise ParseError(f"MSH-2 encoding characters {chars!r} repeat one another or the field separator, "
                         "or are letters, digits or spaces", "MSH", 1, 2, E.DATA_TYPE_ERROR)
    return Encoding(fs, chars[0], chars[1], chars[2], chars[3])


def _header(msh: Segment) -> Header:
    """MSH read once, straight from its fields (every message pays for it)."""
    fields = msh.fields + [""] * (19 - len(msh.fields)) if len(msh.fields) < 19 else msh.fields
    enc = msh._enc
    rep, comp = enc.repetition, enc.component

    def first(n: int) -> list[str]:  # components of the first repetition of MSH-n, unescaped
        raw = fields[n].split(rep, 1)[0] if rep in fields[n] else fields[n]
        return [unescape(c.split(enc.subcomponent, 1)[0].strip(), enc, msh._charset) for c in raw.split(comp)]

    def whole(n: int) -> str:  # HD fields as written (all components), unescaped
        raw = fields[n].split(rep, 1)[0] if rep in fields[n] else fields[n]
        return unescape(raw.rstrip(comp), enc, msh._charset)

    msg_type = first(9) + ["", ""]
    if not msg_type[0]:
        raise ParseError("MSH-9 (message type) is missing", "MSH", 1, 9, E.REQUIRED_FIELD_MISSING)
    control_id = first(10)[0]
    if not control_id:
        raise ParseError("MSH-10 (message control id) is missing", "MSH", 1, 10, E.REQUIRED_FIELD_MISSING)
    version = first(12)[0]
    if not version:
        raise ParseError("MSH-12 (version id) is missing", "MSH", 1, 12, E.REQUIRED_FIELD_MISSING)
    m = _VERSION.match(version)
    if not m or not 2 <= int(m.group(1)) <= 8:
        raise ParseError(f"version {version!r} is not supported (2.2 to 2.8)", "MSH", 1, 12,
                         E.UNSUPPORTED_VERSION)
    return Header(
        sending_application=whole(3), sending_facility=whole(4),
        receiving_application=whole(5), receiving_facility=whole(6),
        datetime=first(7)[0], message_code=msg_type[0], trigger_event=msg_type[1],
        structure=msg_type[2], control_id=control_id, processing_id=first(11)[0],
        version=version, accept_ack_type=first(15)[0], application_ack_type=first(16)[0],
        charset=first(18)[0])
