"""Is a field's value printed, or written by hand? Handwriting is not read (no HTR engine).

OCR engines built for print do not fail safely on handwriting: Tesseract reads a scrawled
phone number wrong at 0.83 confidence, or a name in the wrong case at 0.87 (measured on
the generated hand, tests/bench/forms.py). So handwriting is recognised before it is
trusted, by what print has and a hand has not: letters standing on one baseline. In a
printed line most letters end on the same pixel row (the rest are descenders, or
punctuation); in a hand their feet wander. A field whose letters do not line up is sent
to review, whatever the engine's confidence.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_LETTERS = 4  # fewer: too little to judge (a sex: M or F)
MIN_ON_BASELINE = 0.72  # share of letters on one baseline below which the line is handwritten
MIN_INK_AREA = 12


def baseline_share(image: np.ndarray) -> float | None:
    """Share of the letters whose foot is on the line's baseline (None: too few letters to
    tell). ``image``: a field's grayscale crop, dark ink on light paper."""
    _, ink = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    parts = [stats[i] for i in range(1, count) if stats[i][cv2.CC_STAT_AREA] >= MIN_INK_AREA]
    if not parts:
        return None
    tall = float(np.median([p[cv2.CC_STAT_HEIGHT] for p in parts]))
    letters = [p for p in parts if p[cv2.CC_STAT_HEIGHT] >= 0.5 * tall]  # not dots, accents, hyphens
    if len(letters) < MIN_LETTERS:
        return None
    feet = np.array([p[cv2.CC_STAT_TOP] + p[cv2.CC_STAT_HEIGHT] for p in letters], dtype=float)
    tolerance = max(2.0, 0.08 * tall)
    # The baseline is the foot most letters share; print puts all but descenders and
    # slashes on it, a hand spreads them.
    return max(np.count_nonzero(np.abs(feet - foot) <= tolerance) for foot in feet) / len(letters)


def handwritten(image: np.ndarray) -> bool:
    share = baseline_share(image)
    return share is not None and share < MIN_ON_BASELINE
