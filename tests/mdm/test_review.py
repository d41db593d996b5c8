"""The review queue: Task/$mdm-confirm and Task/$mdm-reject over HTTP."""

from __future__ import annotations

from .helpers import create, golden_of, goldens, parameters, patient, review_tasks


def doubtful_pair(fhir):
    first = create(fhir, patient())
    second = create(fhir, patient(birth="1980-04-03"))  # day and month transposed: probable
    (task,) = review_tasks(fhir)
    return first, second, task


def test_confirm_joins_the_candidate_golden_record(fhir):
    first, second, task = doubtful_pair(fhir)
    own_golden = golden_of(second)
    response = fhir.post(f"/Task/{task['id']}/$mdm-confirm", json=parameters(
        {"name": "note", "valueString": "same person, checked with her ID card"}))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    assert golden_of(fhir.get(f"/Patient/{second['id']}").json()) == golden_of(first)
    assert fhir.get(f"/{own_golden}").status_code == 410  # left without a source
    golden = fhir.get(f"/{golden_of(first)}").json()
    assert {link["other"]["reference"] for link in golden["link"]} == {f"Patient/{first['id']}",
                                                                       f"Patient/{second['id']}"}
    assert review_tasks(fhir) == [] and len(goldens(fhir)) == 1
    again = fhir.post(f"/Task/{task['id']}/$mdm-confirm", json=parameters())
    assert again.status_code == 422


def test_reject_keeps_them_apart(fhir):
    first, second, task = doubtful_pair(fhir)
    response = fhir.post(f"/Task/{task['id']}/$mdm-reject", json=parameters())
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert golden_of(fhir.get(f"/Patient/{second['id']}").json()) != golden_of(first)
    assert len(goldens(fhir)) == 2 and review_tasks(fhir) == []
    # Editing the record later does not re-open the question.
    fhir.put(f"/Patient/{second['id']}", json={**patient(birth="1980-04-03"), "id": second["id"]})
    assert review_tasks(fhir) == []


def test_decisions_only_apply_to_review_tasks(fhir):
    other = create(fhir, {"resourceType": "Task", "status": "requested", "intent": "order"})
    assert fhir.post(f"/Task/{other['id']}/$mdm-confirm", json=parameters()).status_code == 422
    assert fhir.post("/Task/nope/$mdm-reject", json=parameters()).status_code == 404
