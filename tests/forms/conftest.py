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


def make_form(folder: Path, name: str, template_ids: list[str], seed: int, faults=frozenset()) -> Form:
    templates = load_templates()
    rng = random.Random(seed)
    images, pages = [], []
    for template_id in template_ids:
        values = values_for(templates[template_id], rng, frozenset(faults))
        images.append(render(templates[template_id], values, Scan.random(rng), seed=seed))
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
