"""The parsed message: segments of raw fields, split further only when read.

Parsing splits segments and fields (cheap, so the hot path stays a plain split);
repetitions, components and subcomponents are split and unescaped on access.
Numbering follows HL7: ``seg.get(3, 1)`` is PID-3.1; for MSH, field 1 is the field
separator itself, so MSH-9 is ``msh.get(9)`` as in the standard.
"""

from __future__ import annotations

from typing import NamedTuple

from .escape import unescape


class Encoding(NamedTuple):
    """The five separator characters, from MSH-1 and MSH-2."""
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


class Header(NamedTuple):
    """MSH, as written ("" when empty); HD fields keep all their components."""
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    datetime: str
    message_code: str
    trigger_event: str
    structure: str
    control_id: str
    processing_id: str
    version: str
    accept_ack_type: str
    application_ack_type: str
    charset: str


class Rep:
    """One repetition of a field (components), or one component (subcomponents)."""

    __slots__ = ("parts", "_inner", "_enc", "_charset")

    def __init__(self, raw: str, sep: str, inner: str | None, enc: Encoding, charset: str):
        self.parts = raw.split(sep) if sep in raw else [raw]
        self._inner = inner
        self._enc = enc
        self._charset = charset

    def get(self, i: int = 1) -> str:
        """Component ``i`` (1-based) unescaped; its first subcomponent when it has several;
        "" when absent or the v2 null ``""``."""
        if i > len(self.parts):
            return ""
        raw = self.parts[i - 1]
        if self._inner and self._inner in raw:
            raw = raw.split(self._inner, 1)[0]
        raw = raw.strip()  # padded values ("U ", " 42") are common; text fields are read with text()
        if raw == '""':
            return ""
        return unescape(raw, self._enc, self._charset)

    def comp(self, i: int) -> Rep:
        """Component ``i`` as a Rep of its subcomponents (HD inside CX-4, FN inside XPN-1)."""
        raw = self.parts[i - 1] if i <= len(self.parts) else ""
        return Rep(raw, self._inner or "\x00", None, self._enc, self._charset)

    def empty(self) -> bool:
        return not any(p and p != '""' for p in self.parts)

    def text(self) -> str:
        """The whole repetition unescaped, separators as written (for display and keys)."""
        return unescape(self._joined(), self._enc, self._charset)

    def _joined(self) -> str:
        sep = self._enc.component if self._inner else self._enc.subcomponent
        return sep.join(self.parts).rstrip(sep)

    def __len__(self) -> int:
        return len(self.parts)

    def __repr__(self) -> str:
        return f"Rep({self._joined()!r})"


class Segment:
    __slots__ = ("name", "line", "_fields", "position", "sequence", "_enc", "_charset")

    def __init__(self, name: str, line: str, position: int, sequence: int, enc: Encoding, charset: str):
        self.name = name
        self.line = line  # as received; split into fields when first read
        self._fields: list[str] | None = None
        self.position = position  # index in the message
        self.sequence = sequence  # occurrence of this segment name, 1-based
        self._enc = enc
        self._charset = charset

    @property
    def fields(self) -> list[str]:
        """``fields[n]`` is SEG-n, raw; ``fields[0]`` the name (for MSH, ``fields[1]`` is MSH-1)."""
        fields = self._fields
        if fields is None:
            fs = self._enc.field
            fields = self.line.split(fs)
            if self.name == "MSH":
                fields.insert(1, fs)  # MSH-1 is the field separator itself
            self._fields = fields
        return fields

    def raw(self, n: int) -> str:
        return self.fields[n] if n < len(self.fields) else ""

    def reps(self, n: int) -> list[Rep]:
        """The non-empty repetitions of field ``n``."""
        raw = self.raw(n)
        if not raw or raw == '""':
            return []
        enc = self._enc
        if self.name == "MSH" and n <= 2:
            return [Rep(raw, "\x00", None, enc, self._charset)]
        reps = raw.split(enc.repetition) if enc.repetition in raw else [raw]
        out = []
        for r in reps:
            if r and r != '""':
                out.append(Rep(r, enc.component, enc.subcomponent, enc, self._charset))
        return out

    def rep(self, n: int) -> Rep | None:
        reps = self.reps(n)
        return reps[0] if reps else None

    def get(self, n: int, c: int = 1, s: int = 1) -> str:
        """SEG-n.c.s of the first repetition, unescaped ("" when absent)."""
        raw = self.raw(n)
        if not raw:
            return ""
        if self.name == "MSH" and n <= 2:
            return raw
        enc = self._enc
        if enc.repetition in raw:
            raw = raw.split(enc.repetition, 1)[0]
        parts = raw.split(enc.component)
        if c > len(parts):
            return ""
        sub = parts[c - 1].split(enc.subcomponent)
        value = sub[s - 1].strip() if s <= len(sub) else ""
        if value == '""':
            return ""
        return unescape(value, enc, self._charset)

    def __repr__(self) -> str:
        return f"Segment({self.line!r})"


class Message:
    __slots__ = ("segments", "encoding", "header", "charset", "_by_name")

    def __init__(self, segments: list[Segment], encoding: Encoding, header: Header, charset: str):
        self.segments = segments
        self.encoding = encoding
        self.header = header
        self.charset = charset
        by_name: dict[str, list[Segment]] = {}
        for seg in segments:
            by_name.setdefault(seg.name, []).append(seg)
        self._by_name = by_name

    def segment(self, name: str) -> Segment | None:
        found = self._by_name.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list[Segment]:
        return self._by_name.get(name, [])

    @property
    def type(self) -> str:
        """``ADT^A01``: message code and trigger event."""
        h = self.header
        return f"{h.message_code}^{h.trigger_event}" if h.trigger_event else h.message_code

    def patient_key(self) -> str | None:
        """The first PID-3 identifier (``authority|value``), for per-patient ordering."""
        pid = self.segment("PID")
        if pid is None:
            return None
        for rep in pid.reps(3):
            value = rep.get(1)
            if value:
                return f"{rep.comp(4).text()}|{value}"
        return None

    def to_er7(self) -> str:
        """The message as v2 text, segments ended by CR."""
        return "\r".join(seg.line for seg in self.segments) + "\r"
