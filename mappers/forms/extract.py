"""Read a page against the templates: which form it is, then each field's text, confidence and check."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from rapidfuzz import fuzz

from . import handwriting, preprocess, ticks
from .checks import KEYED, KEYED_MIN_CONFIDENCE, Checked
from .ocr import OcrEngine
from .pages import FormError
from .register import Box, locate, scale
from .templates import Field, Template

# Fields written with digits (and a few signs; AB for Corsica's NIR): the engine is told
# when it can use it (Tesseract can, RapidOCR cannot). One set for all keeps it to one call.
NUMERIC = "0123456789/.-+()AB"
NUMERIC_CHECKS = frozenset({"date", "nir", "rpps", "npi", "postcode-fr", "zip-us", "phone-fr", "phone-us"})
MIN_INK_AREA = 12  # connected ink smaller than this (pixels) is a speck of noise, not writing
HANDWRITTEN = "looks handwritten: only printed values are read"
TITLE_MATCH = 75  # rapidfuzz ratio (0-100) a page's title must reach to be that template's


@dataclass(frozen=True)
class Options:
    """The pre-processing steps (each one measured by the bench)."""

    deskew: bool = True
    binarize: bool = True
    remove_lines: bool = True


@dataclass
class FieldReading:
    field: Field
    text: str  # what the engine read
    confidence: float
    checked: Checked
    box: Box  # where it was read, in the page image as deskewed
    crop: np.ndarray  # the box's pixels, shown to the reviewer
    boxes: tuple[ticks.BoxReading, ...] = ()  # a tick-box item: each box as read

    def threshold(self, min_confidence: float) -> float:
        if self.field.is_tick:  # not read by the OCR engine: a threshold of its own
            return ticks.MIN_CONFIDENCE
        return min(min_confidence, KEYED_MIN_CONFIDENCE) if self.field.check in KEYED else min_confidence

    def trusted(self, min_confidence: float) -> bool:
        """May it be stored as a fact: its check passed and the engine (or the tick-box
        reading) was confident enough."""
        return self.checked.ok and self.confidence >= self.threshold(min_confidence) and bool(self.text)

    def problem(self, min_confidence: float) -> str | None:
        if not self.checked.ok:
            return self.checked.problem
        if self.confidence < self.threshold(min_confidence):
            return f"OCR confidence {self.confidence:.2f} below {self.threshold(min_confidence):.2f}"
        return None


@dataclass
class PageReading:
    number: int  # 1-based
    template: Template
    fields: list[FieldReading]
    skew: float  # degrees corrected
    boxes_found: int


def identify(gray: np.ndarray, templates: dict[str, Template], engine: OcrEngine) -> Template:
    """The template whose printed title this page carries (read from the page's top band)."""
    per_mm = gray.shape[1] / max(t.page_mm[0] for t in templates.values())
    bottom = max(t.title_box_mm[1] + t.title_box_mm[3] for t in templates.values()) + 8
    # Titles are printed large: half the resolution reads them as well, in a quarter of the time.
    band = cv2.resize(gray[: round(bottom * per_mm)], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    lines = [line.strip().upper() for line in engine.read_block(band).splitlines() if line.strip()]

    def score(template: Template) -> float:
        return max((fuzz.ratio(line, template.title.upper()) for line in lines), default=0)

    best = max(templates.values(), key=score)
    if score(best) < TITLE_MATCH:
        raise FormError("no form template matches the title of the page")
    return best


def field_image(gray: np.ndarray, box: Box, per_mm: float, options: Options) -> np.ndarray:
    x, y, w, h = box
    inset = max(2, round(0.8 * per_mm))  # inside the printed border
    crop = gray[max(y + inset, 0):y + h - inset, max(x + inset, 0):x + w - inset]
    if options.binarize:
        crop = preprocess.binarize(crop)
        if options.remove_lines:
            crop = preprocess.remove_lines(crop)
    return cv2.copyMakeBorder(_ink_only(crop), 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255)


def _ink_only(crop: np.ndarray) -> np.ndarray:
    """The crop cut to its writing: engines read small text in a wide empty box worse."""
    _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    parts = [stats[i] for i in range(1, count) if stats[i][cv2.CC_STAT_AREA] >= MIN_INK_AREA]
    if not parts:
        return crop
    left = min(p[0] for p in parts)
    top = min(p[1] for p in parts)
    right = max(p[0] + p[2] for p in parts)
    bottom = max(p[1] + p[3] for p in parts)
    return crop[top:bottom, left:right]


def read_page(gray: np.ndarray, number: int, templates: dict[str, Template], engine: OcrEngine,
              *, template: Template | None = None, options: Options = Options()) -> PageReading:
    skew = 0.0
    if options.deskew:
        gray, skew = preprocess.deskew(gray)
    template = template or identify(gray, templates, engine)
    boxes, shift, found = locate(template, gray)
    per_mm = scale(template, gray)
    written = [f for f in template.fields if not f.is_tick]
    images = {f.link_id: field_image(gray, boxes[f.link_id], per_mm, options) for f in written}
    lines = {}
    for numeric in (True, False):
        group = [f.link_id for f in written if (f.check in NUMERIC_CHECKS) == numeric]
        read = engine.read_lines([images[i] for i in group], charset=NUMERIC if numeric else None,
                                 language=template.language)
        lines.update(zip(group, read))
    fields = []
    for f in template.fields:
        boxes_read = ()
        if f.is_tick:
            text, confidence, checked, boxes_read = ticks.read_ticks(gray, f, shift, per_mm)
        else:
            text, confidence = lines[f.link_id].text, lines[f.link_id].confidence
            if not text:
                checked = Checked(None, "nothing read")
            elif handwriting.handwritten(images[f.link_id]):  # engines misread a hand with confidence
                checked = Checked(None, HANDWRITTEN)
            else:
                checked = template.check(f, text)
        x, y, w, h = boxes[f.link_id]
        fields.append(FieldReading(f, text, confidence, checked, boxes[f.link_id],
                                   gray[max(y, 0):y + h, max(x, 0):x + w], boxes_read))
    return PageReading(number, template, fields, skew, found)
