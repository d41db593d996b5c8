"""Tick boxes: is each box of a tick-box item empty, ticked, or filled in?

A box is found near its template place (the page's shift applied, then the printed
square nearest to it), its border is cut away, and the share of its inside covered by
ink decides: an empty box holds only specks, a tick or a cross covers part of it, a box
blacked out or scribbled over (the usual way to cancel a tick) covers most of it. The
confidence says how far the share is from the nearest boundary between those states:
a faint tick, or a cross half scribbled over, comes out below the threshold and the
item goes to review. The bands are measured by tests/bench/forms.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .checks import TICKED_SEPARATOR, Checked
from .register import Box, to_pixels
from .templates import Field

INK = 128  # grey level below which a pixel is ink (paper is near 255, pen near 0)
BORDER_SHARE = 0.16  # of the box's side, cut on each side: the printed border and its blur
# Share of the inside covered by ink: below EMPTY_MAX empty, from TICKED_MIN to TICKED_MAX a
# tick or a cross, above FILLED_MIN filled in; the gaps between are no-man's land.
EMPTY_MAX, TICKED_MIN, TICKED_MAX, FILLED_MIN = 0.04, 0.08, 0.60, 0.72
SURE = 0.08  # a share this far from the nearest other state's band gets confidence 1
MIN_CONFIDENCE = 0.75  # below it a tick-box item goes to review (whatever the OCR engine)

EMPTY, TICKED, FILLED, UNCLEAR = "empty", "ticked", "filled", "unclear"


@dataclass(frozen=True)
class BoxReading:
    state: str  # empty | ticked | filled | unclear
    fill: float  # share of the inside covered by ink
    confidence: float  # 0..1


def classify(fill: float) -> BoxReading:
    """The state a fill share means, and how sure that is (distance to the band's edges)."""

    def sure(distance: float) -> float:
        return round(min(1.0, distance / SURE), 3)

    if fill <= EMPTY_MAX:
        return BoxReading(EMPTY, fill, sure(TICKED_MIN - fill))
    if TICKED_MIN <= fill <= TICKED_MAX:
        return BoxReading(TICKED, fill, sure(min(fill - EMPTY_MAX, FILLED_MIN - fill)))
    if fill >= FILLED_MIN:
        return BoxReading(FILLED, fill, sure(fill - TICKED_MAX))
    return BoxReading(UNCLEAR, fill, 0.0)


def find_box(gray: np.ndarray, want: Box, per_mm: float) -> Box:
    """The printed square nearest to where the template puts it (or that place if none is seen)."""
    x, y, w, h = want
    pad = round(2 * per_mm)
    top, left = max(y - pad, 0), max(x - pad, 0)
    window = gray[top:y + h + pad, left:x + w + pad]
    _, ink = cv2.threshold(window, INK, 255, cv2.THRESH_BINARY_INV)
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    squares = [(rx + left, ry + top, rw, rh) for rx, ry, rw, rh in map(cv2.boundingRect, contours)
               if abs(rw - w) <= 0.25 * w and abs(rh - h) <= 0.25 * h]
    if not squares:
        return want
    return min(squares, key=lambda r: abs(r[0] - x) + abs(r[1] - y))


def fill_share(gray: np.ndarray, box: Box) -> float:
    x, y, w, h = box
    cut_x, cut_y = max(2, round(w * BORDER_SHARE)), max(2, round(h * BORDER_SHARE))
    inside = gray[y + cut_y:y + h - cut_y, x + cut_x:x + w - cut_x]
    if inside.size == 0:
        return 0.0
    return float(np.count_nonzero(inside < INK)) / inside.size


def read_ticks(gray: np.ndarray, field: Field, shift: tuple[int, int], per_mm: float
               ) -> tuple[str, float, Checked, tuple[BoxReading, ...]]:
    """(text naming the ticked boxes, confidence, the answer or why it needs review, each box)."""
    boxes = []
    for option in field.options:
        x, y, w, h = to_pixels(option.box_mm, per_mm)
        boxes.append(classify(fill_share(gray, find_box(gray, (x + shift[0], y + shift[1], w, h), per_mm))))
    ticked = [o for o, b in zip(field.options, boxes) if b.state == TICKED]
    text = TICKED_SEPARATOR.join(o.label for o in ticked)
    confidence = min(b.confidence for b in boxes)
    return text, confidence, _answer(ticked, boxes), tuple(boxes)


def _answer(ticked: list, boxes: list[BoxReading]) -> Checked:
    if any(b.state == FILLED for b in boxes):
        return Checked(None, "a box is filled in (a cancelled tick?)")
    if any(b.state == UNCLEAR for b in boxes):
        return Checked(None, "a box is neither clearly empty nor clearly ticked")
    if not ticked:
        return Checked(None, "no box ticked")
    if len(ticked) > 1:
        return Checked(None, "more than one box ticked")
    return Checked(ticked[0].answer)
