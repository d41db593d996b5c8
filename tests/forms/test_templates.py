"""Templates are data: the shipped ones load, a site adds its own, a broken one is named."""

from __future__ import annotations

import json
import random
from importlib.resources import files

import pytest

from mappers.forms.templates import TemplateError, load_templates
from tests.forms.generate import values_for


def test_shipped_templates_cover_admission_and_referral_in_french_and_english():
    templates = load_templates()
    assert set(templates) == {"admission-fr", "admission-en", "referral-fr", "referral-en"}
    for template in templates.values():
        items = {i["linkId"] for i in template.questionnaire["item"]}
        assert items == {f.link_id for f in template.fields}
        assert template.questionnaire["resourceType"] == "Questionnaire"


def _site_template(folder, **changes):
    doc = json.loads(files("mappers.forms").joinpath("templates/admission-fr.json").read_text(encoding="utf-8"))
    doc.update(id="consultation-fr", title={"text": "FICHE DE CONSULTATION", "box_mm": [15, 12, 180, 14]})
    doc.update(changes)
    (folder / "consultation-fr.json").write_text(json.dumps(doc), encoding="utf-8")


def test_a_site_adds_its_own_template_without_code(tmp_path):
    _site_template(tmp_path)
    templates = load_templates(tmp_path)
    assert templates["consultation-fr"].title == "FICHE DE CONSULTATION"
    assert "admission-fr" in templates


@pytest.mark.parametrize("change, message", [
    ({"date_format": "YY/MM/DD"}, "consultation-fr.json: date_format must be one of"),
    ({"fields": [{"linkId": "nope", "label": "x", "box_mm": [1, 2, 3, 4], "check": "text"}]},
     "consultation-fr.json: fields[0]: linkId 'nope' is not an item of the questionnaire"),
    ({"fields": [{"linkId": "patient.family", "label": "x", "box_mm": [1, 2, 3, 4], "check": "magic"}]},
     "consultation-fr.json: fields[0]: unknown check 'magic'"),
    ({"fields": [{"linkId": "patient.family", "label": "x", "box_mm": [1, 2], "check": "name"}]},
     "consultation-fr.json: fields[0].box_mm must be [x, y, width, height] in millimetres"),
])
def test_a_broken_template_is_named_with_its_element(tmp_path, change, message):
    _site_template(tmp_path, **change)
    with pytest.raises(TemplateError) as problem:
        load_templates(tmp_path)
    assert message in str(problem.value)


TICK = {"linkId": "allergies.known", "label": "Allergies connues", "box_mm": [78, 237, 117, 9], "check": "tick"}


@pytest.mark.parametrize("options, message", [
    (None, "fields[0].options: a tick-box item lists at least two boxes"),
    ([{"answer": True, "label": "oui", "box_mm": [80, 239, 5, 5]}],
     "fields[0].options: a tick-box item lists at least two boxes"),
    ([{"answer": True, "label": "oui", "box_mm": [80, 239, 5, 5]}, {"answer": "no", "label": "non",
                                                                   "box_mm": [130, 239, 5, 5]}],
     "fields[0].options[1].answer: 'no' is not an answer of item 'allergies.known'"),
    ([{"answer": True, "label": "oui", "box_mm": [80, 239, 5, 5]}, {"answer": False, "label": "non",
                                                                   "box_mm": [130, 239]}],
     "fields[0].options[1].box_mm must be [x, y, width, height]"),
])
def test_a_broken_tick_box_item_is_named(tmp_path, options, message):
    doc = json.loads(files("mappers.forms").joinpath("templates/admission-fr.json").read_text(encoding="utf-8"))
    field = {**TICK, **({"options": options} if options is not None else {})}
    _site_template(tmp_path, fields=[field] + [f for f in doc["fields"] if f["linkId"] != "allergies.known"])
    with pytest.raises(TemplateError) as problem:
        load_templates(tmp_path)
    assert message in str(problem.value)


def test_a_tick_box_item_must_be_boolean_or_choice(tmp_path):
    doc = json.loads(files("mappers.forms").joinpath("templates/admission-fr.json").read_text(encoding="utf-8"))
    family = next(f for f in doc["fields"] if f["linkId"] == "patient.family")
    family.update(check="tick", options=[{"answer": True, "label": "a", "box_mm": [1, 2, 3, 4]},
                                         {"answer": False, "label": "b", "box_mm": [5, 2, 3, 4]}])
    _site_template(tmp_path, fields=doc["fields"])
    with pytest.raises(TemplateError, match="a tick-box item is of type boolean or choice, not 'string'"):
        load_templates(tmp_path)


def test_a_template_that_is_not_json_is_named(tmp_path):
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(TemplateError, match="broken.json: not a readable JSON template"):
        load_templates(tmp_path)


def test_generated_values_pass_their_checks_and_faults_do_not():
    rng = random.Random(3)
    for template in load_templates().values():
        for _ in range(40):
            values = values_for(template, rng)
            for f in template.fields:
                assert template.check(f, values[f.link_id]).ok, (template.id, f.link_id, values[f.link_id])
        keyed = [f.link_id for f in template.fields if f.check in ("nir", "rpps", "npi")]
        faulty = values_for(template, rng, frozenset(keyed))
        assert not any(template.check(template.field(k), faulty[k]).ok for k in keyed)
