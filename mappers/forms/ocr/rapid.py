"""RapidOCR (PaddleOCR models on onnxruntime; the models ship inside the wheel, no network).

Its recognition model reads Chinese and English: French accents come out unaccented
("Hélène" as "Helene"), which the bench shows as fields stored wrong on French forms.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from .base import LineReading, OcrError, clean


class RapidEngine:
    name = "rapidocr"
    min_confidence = 0.90

    def __init__(self):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as missing:
            raise OcrError("rapidocr-onnxruntime is not installed") from missing
        self._ocr = RapidOCR()
        self._lock = threading.Lock()  # one inference at a time: a session already uses every core

    def read_lines(self, images: list[np.ndarray], *, charset: str | None = None,
                   language: str = "fr") -> list[LineReading]:
        # A field holds one line: recognition only (no detection pass), all fields in one batch.
        if not images:
            return []
        with self._lock:
            results, _ = self._ocr.text_rec([cv2.cvtColor(i, cv2.COLOR_GRAY2BGR) for i in images])
        return [LineReading(clean(text), float(score)) for text, score in results]

    def read_block(self, image: np.ndarray, *, language: str = "fr") -> str:
        with self._lock:
            result, _ = self._ocr(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
        return "\n".join(line[1] for line in result or [])
