"""Where the template's boxes are on a (deskewed) page.

The template gives each box in millimetres; the scan shifts the page by a few millimetres.
The printed boxes themselves are found (rectangular contours of the right size); the
shift most of them agree on places the template, and each field then takes the printed
box found nearest to its expected place (or the expected place if none was found).
"""

from __future__ import annotations

import cv2
import numpy as np

from .templates import Template

Box = tuple[int, int, int, int]  # x, y, width, height in pixels
MAX_SHIFT_MM = 10  # how far a scan may move the page


def scale(template: Template, gray: np.ndarray) -> float:
    """Pixels per millimetre, from the page width (a page scanned at any resolution)."""
    return gray.shape[1] / template.page_mm[0]


def to_pixels(box_mm, per_mm: float) -> Box:
    return tuple(round(v * per_mm) for v in box_mm)


def find_rectangles(gray: np.ndarray, min_width: int, min_height: int) -> list[Box]:
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return [r for r in (cv2.boundingRect(c) for c in contours) if r[2] >= min_width and r[3] >= min_height]


def _similar(a: Box, b: Box) -> bool:
    return abs(a[2] - b[2]) <= 0.05 * b[2] and abs(a[3] - b[3]) <= 0.2 * b[3]


def _near(rect: Box, want: Box, tolerance: float) -> bool:
    return _similar(rect, want) and abs(rect[0] - want[0]) <= tolerance and abs(rect[1] - want[1]) <= tolerance


def locate(template: Template, gray: np.ndarray) -> tuple[dict[str, Box], tuple[int, int], int]:
    """Each field's box in pixels, the shift applied, and how many printed boxes were found."""
    per_mm = scale(template, gray)
    expected = {f.link_id: to_pixels(f.box_mm, per_mm) for f in template.fields}
    smallest_w = min(b[2] for b in expected.values())
    smallest_h = min(b[3] for b in expected.values())
    found = [r for r in find_rectangles(gray, int(smallest_w * 0.9), int(smallest_h * 0.7))]
    tolerance = 1.5 * per_mm
    # Candidate shifts: a found box paired with an expected one, within MAX_SHIFT_MM (less than
    # the spacing of rows, so a shift cannot map every box onto its neighbour).
    limit = MAX_SHIFT_MM * per_mm
    candidates = {(r[0] - b[0], r[1] - b[1]) for b in expected.values() for r in found
                  if _similar(r, b) and abs(r[0] - b[0]) <= limit and abs(r[1] - b[1]) <= limit}

    def agreement(shift) -> tuple[int, float]:
        hits = sum(any(_near(r, (x + shift[0], y + shift[1], w, h), tolerance) for r in found)
                   for x, y, w, h in expected.values())
        return hits, -abs(shift[0]) - abs(shift[1])

    shift = max(candidates, key=agreement, default=(0, 0))
    placed, matched = {}, 0
    for link_id, (x, y, w, h) in expected.items():
        want = (x + shift[0], y + shift[1], w, h)
        near = [r for r in found if _near(r, want, tolerance)]
        if near:
            placed[link_id] = min(near, key=lambda r: abs(r[0] - want[0]) + abs(r[1] - want[1]))
            matched += 1
        else:
            placed[link_id] = want
    return placed, shift, matched
