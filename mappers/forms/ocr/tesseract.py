"""Tesseract 5 through pytesseract (Debian ``tesseract-ocr`` with the ``fra`` and ``eng`` data).

Each pytesseract call starts a tesseract process and loads its model (a few hundred ms),
so the fields of a page are read in one call: their images are stacked one above the
other and the words found are given back to the image they fall in.
"""

from __future__ import annotations

import os

import numpy as np
import pytesseract

from .base import LineReading, OcrError, clean

LANGUAGES = {"fr": "fra", "en": "eng"}
# Tesseract's OpenMP threads cost more than they give on images this small (and the
# server has other work): one thread per process, unless the operator set it.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
GAP = 40  # white pixels between stacked fields


class TesseractEngine:
    name = "tesseract"
    min_confidence = 0.80

    def __init__(self):
        try:
            pytesseract.get_tesseract_version()
        except pytesseract.TesseractNotFoundError as missing:
            raise OcrError("tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-fra)") from missing

    def read_lines(self, images: list[np.ndarray], *, charset: str | None = None,
                   language: str = "fr") -> list[LineReading]:
        if not images:
            return []
        width = max(i.shape[1] for i in images)
        rows, spans, top = [], [], 0
        for image in images:
            pad = np.full((GAP, width), 255, np.uint8)
            rows += [np.pad(image, ((0, 0), (0, width - image.shape[1])), constant_values=255), pad]
            spans.append((top, top + image.shape[0]))
            top += image.shape[0] + GAP
        # psm 6: one block of lines; no dictionaries: names and codes are not words.
        config = "--psm 6 -c load_system_dawg=0 -c load_freq_dawg=0 -c preserve_interword_spaces=0"
        if charset:
            # The space stays allowed: without it words run together and lose their confidence.
            config += f" -c 'tessedit_char_whitelist={charset.replace(' ', '')} '"
        data = pytesseract.image_to_data(np.vstack(rows), lang=LANGUAGES.get(language[:2], "fra+eng"),
                                         config=config, output_type=pytesseract.Output.DICT)
        words: list[list[tuple[int, str, float]]] = [[] for _ in images]
        for text, conf, left, y, h in zip(data["text"], data["conf"], data["left"], data["top"], data["height"]):
            if not text.strip() or float(conf) < 0:
                continue
            middle = y + h / 2
            for n, (start, end) in enumerate(spans):
                if start - GAP / 2 <= middle < end + GAP / 2:
                    words[n].append((left, text, float(conf)))
                    break
        out = []
        for found in words:
            found.sort()
            out.append(LineReading(clean(" ".join(w for _, w, _ in found)), min(c for *_, c in found) / 100)
                       if found else LineReading("", 0.0))
        return out

    def read_block(self, image: np.ndarray, *, language: str = "fr") -> str:
        return pytesseract.image_to_string(image, lang="fra+eng", config="--psm 6")
