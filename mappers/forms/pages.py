"""A received file -> its pages as grayscale images. PDF (every page), PNG, JPEG, TIFF (every frame)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

PDF_DPI = 300

# Leading bytes -> MIME type (the name and declared type of an upload are not trusted).
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
MAX_PAGES = 50


class FormError(ValueError):
    """A file that cannot be read as a form; the message says why, without any of its content."""


def content_type(data: bytes) -> str:
    for magic, mime in SIGNATURES:
        if data.startswith(magic):
            return mime
    raise FormError("not a PDF, PNG, JPEG or TIFF file")  # read as "the file is not a ..."


def load_pages(data: bytes) -> list[np.ndarray]:
    """Every page of the file as an 8-bit grayscale array (PDF pages rendered at 300 dpi)."""
    mime = content_type(data)
    try:
        if mime == "application/pdf":
            pages = _pdf_pages(data)
        else:
            with Image.open(io.BytesIO(data)) as image:
                pages = [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError) as problem:
        raise FormError(f"unreadable {mime.split('/')[1].upper()} file ({type(problem).__name__})") from None
    if not pages:
        raise FormError("the file has no page")
    if len(pages) > MAX_PAGES:
        raise FormError(f"the file has {len(pages)} pages; at most {MAX_PAGES} are read")
    return pages


def _pdf_pages(data: bytes) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as problem:
        raise ValueError(str(problem)) from None
    try:
        return [np.asarray(page.render(scale=PDF_DPI / 72, grayscale=True).to_pil().convert("L"))
                for page in document]
    finally:
        document.close()
