"""Optional structure validation against the HL7 v2 standard, with hl7apy.

hl7apy knows every message structure, segment, data type and table of v2.1-2.8; it
reads about 100-160 messages/s here, so it stays off the hot path: a channel that
wants strict partners calls ``validate`` itself (per channel, not per message type).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .message import Message


def validate(message: Message) -> list[str]:
    """Every structural error and warning hl7apy finds (``[]``: valid). Lines read
    ``Error: …`` or ``Warning: …``; an unparseable message gives one error."""
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.exceptions import HL7apyException
    from hl7apy.parser import parse_message
    from hl7apy.validation import Validator

    er7 = message.to_er7()
    try:
        parsed = parse_message(er7, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True)
    except (HL7apyException, ValueError, KeyError, IndexError) as exc:
        return [f"Error: {type(exc).__name__}: {exc}"]
    with tempfile.TemporaryDirectory(prefix="passerelle-hl7apy-") as tmp:
        report = Path(tmp) / "report.txt"
        try:
            Validator.validate(parsed, report_file=str(report))
        except (HL7apyException, ValueError, KeyError, IndexError):
            pass  # every issue is in the report; hl7apy raises the first one as well
        return [line for line in report.read_text(encoding="utf-8").splitlines() if line] if report.exists() else []
