"""Image clean-up before OCR: deskew the page, binarize a field, remove its box borders.

Which of these pay is measured by tests/bench/forms.py (``--no-deskew`` and friends).
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_SKEW = 3.0  # degrees; scanners and phone apps stay within this


def _rotate(image: np.ndarray, angle: float, border: int = 255) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)


def skew_angle(gray: np.ndarray) -> float:
    """The rotation (degrees) that makes the page's text lines and box borders horizontal:
    the angle whose row profile of ink is the most peaked (coarse search, then fine)."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)

    def sharpness(angle: float) -> float:
        return float(np.var(_rotate(ink, angle, border=0).sum(axis=1, dtype=np.float64)))

    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.25), key=sharpness)
    return float(max(np.arange(best - 0.25, best + 0.26, 0.05), key=sharpness))


def deskew(gray: np.ndarray) -> tuple[np.ndarray, float]:
    angle = skew_angle(gray)
    return (_rotate(gray, angle) if abs(angle) >= 0.05 else gray), angle


def binarize(gray: np.ndarray) -> np.ndarray:
    """Black ink on white: Otsu after a light blur, which also drops isolated specks of noise."""
    _, binary = cv2.threshold(cv2.GaussianBlur(gray, (3, 3), 0), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary


def remove_lines(binary: np.ndarray) -> np.ndarray:
    """Whiten long horizontal and vertical strokes (what is left of a box's border in a crop)."""
    ink = 255 - binary
    h, w = ink.shape
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 4, 1), 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(h * 3 // 4, 1))))
    lines = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    return np.where(lines > 0, 255, binary).astype(np.uint8)
