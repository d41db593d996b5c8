"""Generated scanned forms (synthetic values, ground truth) shared by the forms tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from mappers.forms.templates import load_templates
from tests.forms.generate import Scan, render, save, values_for


@dataclass
class Form:
    path: Path
    pages: list[dict]  # {"template": id, "values": {linkId: printed text}}

    def expected(self, page: int, link_id: str):
        """The stored form of a printed value (what the checks make of the true text)."""
        template = load_templates()[self.pages[page]["template"]]
        return template.check(template.field(link_id), self.pages[page]["values"][link_id]).value


def make_form(folder: Path, name: str, template_ids: list[str], seed: int, faults=frozenset(),
              handwritten=frozenset()) -> Form:
    templates = load_templates()
    rng = random.Random(seed)
    images, pages = [], []
    for template_id in template_ids:
        values = values_for(templates[template_id], rng, frozenset(faults))
        scan = Scan.random(rng)
        scan.handwritten = frozenset(handwritten)
        images.append(render(templates[template_id], values, scan, seed=seed))
        pages.append({"template": template_id, "values": values})
    save(images, folder / name)
    return Form(folder / name, pages)


@pytest.fixture(scope="session")
def forms(tmp_path_factory) -> dict[str, Form]:
    folder = tmp_path_factory.mktemp("forms")
    return {
        "admission-fr.png": make_form(folder, "admission-fr.png", ["admission-fr"], 11),
        "bad-nir.jpg": make_form(folder, "bad-nir.jpg", ["admission-fr"], 12, {"patient.nir"}),
        "referral-en.tiff": make_form(folder, "referral-en.tiff", ["referral-en"], 13),
        "two-pages.pdf": make_form(folder, "two-pages.pdf", ["referral-fr", "admission-en"], 14),
    }


@pytest.fixture(scope="session")
def doubtful_admission(forms) -> tuple[Form, dict]:
    """The admission-fr form read by real Tesseract as if every field were doubtful (a poor
    scan): the transaction Bundle the intake would store, every field a review Task."""
    import hashlib

    from mappers.forms import Source, engine, form_bundle, read_form

    form = forms["admission-fr.png"]
    data = form.path.read_bytes()
    pages = read_form(data, load_templates(), engine("tesseract"))
    for page in pages:
        for reading in page.fields:
            reading.confidence = 0.0
    return form, form_bundle(pages, Source(hashlib.sha256(data).hexdigest(), "2026-12-02T03:00:00Z"), 0.8)
