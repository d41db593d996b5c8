"""Tick boxes and handwriting through $ingest-form, with real Tesseract on generated forms."""

from __future__ import annotations

import pytest

from tests.forms.conftest import make_form
from tests.forms.test_ingest_operation import ingest, out, search

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
HANDWRITTEN = ("patient.family", "patient.birthDate", "patient.nir", "patient.address.city")


@pytest.fixture(scope="module")
def corrected_and_handwritten(tmp_path_factory):
    """An admission form whose 'Motif' was corrected (one box scribbled over, the other
    ticked) and whose identity fields were written by hand."""
    return make_form(tmp_path_factory.mktemp("hand"), "hand.png", ["admission-fr"], 21,
                     faults={"admission.class"}, handwritten=set(HANDWRITTEN))


def reviews(fhir, result) -> dict[str, dict]:
    tasks = [fhir.get(r["reference"]).json() for r in out(result, "review")]
    return {t["input"][0]["valueString"]: {i["type"]["text"]: next(v for k, v in i.items() if k.startswith("value"))
                                           for i in t["input"]} for t in tasks}


def test_ticked_boxes_become_answers(fhir, forms):
    form = forms["admission-fr.png"]
    result = ingest(fhir, form.path).json()
    [response] = search(fhir, "/QuestionnaireResponse")
    answered = {i["linkId"]: i["answer"][0] for i in response.get("item", [])}
    expected = {link: form.expected(0, link) for link in ("allergies.known", "admission.class")}
    assert expected["allergies.known"] in (True, False) and expected["admission.class"] in ("AMB", "IMP")
    to_review = reviews(fhir, result)
    for link, value in expected.items():  # stored exactly, or (never both) waiting for review
        assert (link in answered) != (link in to_review)
    if "allergies.known" in answered:
        assert answered["allergies.known"] == {"valueBoolean": expected["allergies.known"]}
    if "admission.class" in answered:
        assert answered["admission.class"]["valueCoding"]["code"] == expected["admission.class"]
        assert answered["admission.class"]["valueCoding"]["system"] == ACT_CODE


def test_a_scribbled_box_and_handwriting_go_to_review_never_into_the_record(fhir, corrected_and_handwritten):
    form = corrected_and_handwritten
    result = ingest(fhir, form.path)
    assert result.status_code == 200, result.text
    to_review = reviews(fhir, result.json())
    assert to_review["admission.class"]["problem"] == "a box is filled in (a cancelled tick?)"
    for link in HANDWRITTEN:
        assert link in to_review, (link, form.pages[0]["values"][link])
        if to_review[link].get("candidate"):  # something was read: taken for handwriting, not trusted
            assert to_review[link]["problem"] == "looks handwritten: only printed values are read", link
    [response] = search(fhir, "/QuestionnaireResponse")
    answered = {i["linkId"] for i in response.get("item", [])}
    assert not answered & {*HANDWRITTEN, "admission.class"}
    assert response["status"] == "in-progress"
    [patient] = search(fhir, "/Patient")  # named by the typed given name only
    assert "identifier" not in patient and "birthDate" not in patient
    assert "family" not in patient["name"][0] and "city" not in (patient.get("address") or [{}])[0]
