"""OCR engines behind one interface (``base.OcrEngine``); ``engine(name)`` builds one once."""

from __future__ import annotations

from functools import cache

from .base import LineReading, OcrEngine, OcrError

ENGINES = ("tesseract", "rapidocr")


@cache
def engine(name: str) -> OcrEngine:
    """The engine called ``name`` (built once per process: RapidOCR loads its models)."""
    if name == "tesseract":
        from .tesseract import TesseractEngine

        return TesseractEngine()
    if name == "rapidocr":
        from .rapid import RapidEngine

        return RapidEngine()
    raise OcrError(f"unknown OCR engine {name!r} (known: {', '.join(ENGINES)})")


__all__ = ["ENGINES", "LineReading", "OcrEngine", "OcrError", "engine"]
