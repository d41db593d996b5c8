"""Scanned forms -> FHIR: read a file's pages against the form templates, then build a Bundle.

    pages = read_form(data, load_templates(), ocr.engine("tesseract"))
    bundle = form_bundle(pages, Source(sha256, received), min_confidence)

Pure: bytes in, FHIR out (the OCR engines run locally); the server stores the result.
"""

from __future__ import annotations

from .bundle import Source, form_bundle
from .extract import FieldReading, Options, PageReading, read_page
from .ocr import ENGINES, OcrEngine, OcrError, engine
from .pages import FormError, content_type, load_pages
from .templates import Template, TemplateError, load_templates


def read_form(data: bytes, templates: dict[str, Template], ocr_engine: OcrEngine, *,
              template: Template | None = None, options: Options = Options(), progress=None) -> list[PageReading]:
    """Every page of the file read against its template (found from the page's title unless given).
    ``progress(done, total)`` is called after each page."""
    pages = load_pages(data)
    out = []
    for number, image in enumerate(pages, 1):
        try:
            out.append(read_page(image, number, templates, ocr_engine, template=template, options=options))
        except FormError as problem:
            raise FormError(f"page {number}: {problem}") from None
        if progress:
            progress(number, len(pages))
    return out


__all__ = [
    "ENGINES", "FieldReading", "FormError", "OcrEngine", "OcrError", "Options", "PageReading", "Source", "Template",
    "TemplateError", "content_type", "engine", "form_bundle", "load_pages", "load_templates", "read_form",
]
