"""Log lines about failures without their messages: exception texts can carry patient
data (a mapper quoting a field, a database error quoting its parameters)."""

from __future__ import annotations

import traceback


def where(exc: BaseException) -> str:
    """``ValueError at mappers/hl7v2/segments/pid.py:42``: the type and the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    parts = last.filename.replace("\\", "/").split("/")
    return f"{type(exc).__name__} at {'/'.join(parts[-3:])}:{last.lineno}"
