"""Errors of the v2 parser and mapper, placed the way an ERR segment needs them."""

from __future__ import annotations

# HL7 table 0357 (message error condition codes) used here.
SEGMENT_SEQUENCE = "100"
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT_CODE = "201"
UNSUPPORTED_VERSION = "203"
INTERNAL_ERROR = "207"


class ParseError(Exception):
    """A message that cannot be read, with where (ERR-2: segment, its occurrence, field)
    and why (ERR-3: an HL7 table 0357 code)."""

    def __init__(self, text: str, segment: str = "MSH", sequence: int = 1, field: int | None = None,
                 code: str = INTERNAL_ERROR, component: int | None = None):
        super().__init__(text)
        self.text = text
        self.segment = segment
        self.sequence = sequence
        self.field = field
        self.code = code
        self.component = component

    @property
    def location(self) -> str:
        """``PID[1]-3.1``: the place in the ER7 notation operators read."""
        where = f"{self.segment}[{self.sequence}]"
        if self.field is not None:
            where += f"-{self.field}"
            if self.component is not None:
                where += f".{self.component}"
        return where

    def __str__(self) -> str:
        return f"{self.location}: {self.text} (HL7 0357 code {self.code})"


class MappingError(ParseError):
    """A message read fine but that cannot be turned into FHIR: what, and where."""
