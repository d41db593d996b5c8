"""NTE -> Annotation (NTE-3 comment; repetitions are lines)."""

from __future__ import annotations

from ..message import Segment


def text(nte: Segment) -> str:
    return "\n".join(r.text() for r in nte.reps(3)).strip()


def annotations(ntes: list[Segment]) -> list[dict]:
    return [{"text": t} for t in (text(n) for n in ntes) if t]
