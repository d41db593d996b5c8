"""One interface over the OCR engines: read the lines of a page's fields, or a block of text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class LineReading:
    text: str
    confidence: float  # 0..1: the engine's own score (its least sure word, for a line)


class OcrEngine(Protocol):
    name: str
    # Below this confidence a field is not trusted (calibrated per engine by tests/bench/forms.py).
    min_confidence: float

    def read_lines(self, images: list[np.ndarray], *, charset: str | None = None,
                   language: str = "fr") -> list[LineReading]:
        """One line of text from each grayscale image (a field's ink, borders removed).
        ``charset``: the only characters the fields may hold, when the engine can use it."""

    def read_block(self, image: np.ndarray, *, language: str = "fr") -> str:
        """All the text in a grayscale image (used to tell forms apart by their title)."""


class OcrError(RuntimeError):
    """The engine could not run (missing binary or model)."""


def clean(text: str) -> str:
    """Compatibility forms folded (full-width "（" and "，" become "(" and ","), spaces single."""
    return " ".join(unicodedata.normalize("NFKC", text).split())
