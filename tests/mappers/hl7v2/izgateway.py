"""Reads IZGateway's messages.txt: messages, and the FHIRPath assertions under their segments.

Format (IZGateway/v2tofhir): ``#`` lines are comments; a trailing backslash continues a
line; a line starting with whitespace and ``@`` is an assertion on the FHIR produced
for the segment above it; ``//`` after whitespace starts a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_COMMENT = re.compile(r"\s+//.*$")


@dataclass
class Assertion:
    expression: str
    segment: str  # the segment line it follows
    line: int


@dataclass
class Sample:
    segments: list[str] = field(default_factory=list)
    assertions: list[Assertion] = field(default_factory=list)


def read(path: Path) -> list[Sample]:
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith("//"):  # a comment line ends what it continues
            if pending:
                logical.append((start, pending))
                pending = ""
            continue
        if not pending:
            start = n
        piece = line.lstrip() if pending else line  # continuation lines are indented
        stripped = piece.rstrip()
        if stripped.endswith("\\") and not stripped.endswith("\\\\"):
            pending += stripped[:-1]
            continue
        logical.append((start, pending + piece))
        pending = ""
    samples: list[Sample] = []
    for n, line in logical:
        if not line.strip() or line.startswith("#"):
            continue
        if line[:1].isspace():
            text = line.strip()
            if text.startswith("@"):
                expression = _COMMENT.sub("", text[1:]).strip()
                samples[-1].assertions.append(Assertion(expression, samples[-1].segments[-1], n))
            continue
        segment = line.strip()
        if segment.startswith("MSH"):
            samples.append(Sample())
        if samples:
            samples[-1].segments.append(segment)
    return samples
