"""Closing a field review Task writes the reviewed value into the record (over HTTP).

The store starts with the admission form read by Tesseract with every field doubtful
(conftest ``doubtful_admission``): no Patient, a QuestionnaireResponse without answers,
one Task per field. Each test closes Tasks as a coordinator would.
"""

from __future__ import annotations

import copy

import pytest

from tests.conftest import race

NIR = "urn:oid:1.2.250.1.213.1.4.8"
REVIEW = "urn:passerelle:form-review"
VALUE_TYPE = {"coding": [{"system": REVIEW, "code": "value"}]}
FHIR_JSON = "application/fhir+json"


def search(fhir, query: str) -> list[dict]:
    bundle = fhir.get(query).json()
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") != "outcome"]


@pytest.fixture
def review(fhir, doubtful_admission):
    """{linkId: Task} after storing the doubtful form."""
    form, bundle = doubtful_admission
    answer = fhir.post("", json=copy.deepcopy(bundle), headers={"Content-Type": FHIR_JSON})
    assert answer.status_code == 200, answer.text
    tasks = {t["input"][0]["valueString"]: t for t in search(fhir, "/Task?_count=100")}
    assert set(tasks) == set(form.pages[0]["values"])
    return form, tasks


def close(fhir, task: dict, status: str = "completed", **value):
    task = {**task, "status": status}
    if value:
        task["output"] = [{"type": VALUE_TYPE, **value}]
    return fhir.put(f"/Task/{task['id']}", json=task, headers={"Content-Type": FHIR_JSON})


def answers(fhir, task: dict) -> dict:
    response = fhir.get(task["focus"]["reference"]).json()
    return {i["linkId"]: i["answer"][0] for i in response.get("item", [])}


def patient_of(fhir, task: dict) -> dict:
    response = fhir.get(task["focus"]["reference"]).json()
    return fhir.get(response["subject"]["reference"]).json()


def test_a_reviewed_name_starts_the_patient_and_the_rest_fills_it_in(fhir, review):
    form, tasks = review
    assert search(fhir, "/Patient") == []
    family = form.pages[0]["values"]["patient.family"]
    answer = close(fhir, tasks["patient.family"], valueString=family)
    assert answer.status_code == 200, answer.text
    closed = answer.json()
    patient = patient_of(fhir, tasks["patient.family"])
    assert patient["name"][0]["family"] == family
    assert closed["for"]["reference"] == f"Patient/{patient['id']}"
    assert answers(fhir, tasks["patient.family"])["patient.family"] == {"valueString": family}

    # The Provenance names the Task and what the review wrote; the Task points at it.
    [provenance] = search(fhir, f"/Provenance?target=Patient/{patient['id']}")
    assert {e["what"]["reference"] for e in provenance["entity"]} == {f"Task/{closed['id']}"}
    assert {t["reference"].split("/_history")[0] for t in provenance["target"]} == {
        f"Patient/{patient['id']}", tasks["patient.family"]["focus"]["reference"]}
    assert closed["relevantHistory"] == [{"reference": f"Provenance/{provenance['id']}"}]

    birth = form.pages[0]["values"]["patient.birthDate"]  # DD/MM/YYYY on the form
    day, month, year = birth.split("/")
    assert close(fhir, tasks["patient.birthDate"], valueDate=f"{year}-{month}-{day}").status_code == 200
    assert close(fhir, tasks["patient.gender"], valueCoding={"code": "female"}).status_code == 200
    assert close(fhir, tasks["patient.phone"], valueString="+33 6 12 34 56 78").status_code == 200
    assert close(fhir, tasks["patient.address.city"], valueString="Lyon").status_code == 200
    assert close(fhir, tasks["patient.address.postalCode"], valueString="69003").status_code == 200
    patient = patient_of(fhir, tasks["patient.family"])
    assert patient["birthDate"] == f"{year}-{month}-{day}" and patient["gender"] == "female"
    assert patient["telecom"] == [{"system": "phone", "value": "06 12 34 56 78", "use": "home"}]
    assert patient["address"][0]["city"] == "Lyon" and patient["address"][0]["postalCode"] == "69003"
    assert patient["name"][0]["family"] == family  # earlier reviews kept
    assert len(search(fhir, "/Patient")) == 1


def test_a_corrected_nir_must_pass_its_key(fhir, review):
    form, tasks = review
    close(fhir, tasks["patient.family"], valueString="Martin")
    nir = form.expected(0, "patient.nir")
    wrong = nir[:13] + f"{(int(nir[13:]) + 1) % 97:02d}"
    refused = close(fhir, tasks["patient.nir"], valueString=wrong)
    assert refused.status_code == 422
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "the NIR key (mod 97) does not match" in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == ["Task.output[0]"]
    assert fhir.get(f"/Task/{tasks['patient.nir']['id']}").json()["status"] == "requested"  # nothing written
    assert "identifier" not in patient_of(fhir, tasks["patient.nir"])

    spaced = " ".join(nir[i:i + 3] for i in range(0, 15, 3))
    assert close(fhir, tasks["patient.nir"], valueString=spaced).status_code == 200
    assert patient_of(fhir, tasks["patient.nir"])["identifier"] == [{"system": NIR, "value": nir}]
    assert len(search(fhir, f"/Patient?identifier={NIR}|{nir}")) == 1


def test_allergies_need_the_patient_then_become_allergy_intolerances(fhir, review):
    _, tasks = review
    early = close(fhir, tasks["allergies"], valueString="amoxicilline, aspirine")
    assert early.status_code == 422
    assert "review the patient's name or identifier first" in early.json()["issue"][0]["diagnostics"]
    unknown = close(fhir, tasks["allergies"], valueString="kryptonite")
    assert unknown.status_code == 422 and "'kryptonite' is not a known allergen" in unknown.text

    close(fhir, tasks["patient.family"], valueString="Martin")
    assert close(fhir, tasks["allergies"], valueString="amoxicilline, aspirine").status_code == 200
    patient = patient_of(fhir, tasks["allergies"])
    allergies = search(fhir, f"/AllergyIntolerance?patient=Patient/{patient['id']}")
    assert sorted(a["code"]["text"] for a in allergies) == ["amoxicilline", "aspirine"]
    assert all(a["verificationStatus"]["coding"][0]["code"] == "unconfirmed" for a in allergies)
    assert answers(fhir, tasks["allergies"])["allergies"] == {"valueString": "amoxicilline, aspirine"}


def test_coverage_waits_for_its_insurer_then_carries_the_member_number(fhir, review):
    _, tasks = review
    close(fhir, tasks["patient.family"], valueString="Martin")
    bad = close(fhir, tasks["coverage.subscriberId"], valueString="123")
    assert bad.status_code == 422 and "AA9999999" in bad.text
    ok = close(fhir, tasks["coverage.subscriberId"], valueString="ab 1234567")
    assert ok.status_code == 200, ok.text
    assert search(fhir, "/Coverage") == []  # no insurer yet: the number waits in the response
    assert answers(fhir, tasks["coverage.subscriberId"])["coverage.subscriberId"] == {"valueString": "AB1234567"}
    assert close(fhir, tasks["coverage.payor"], valueString="MGEN").status_code == 200
    [coverage] = search(fhir, "/Coverage")
    assert coverage["payor"] == [{"display": "MGEN"}] and coverage["subscriberId"] == "AB1234567"
    assert coverage["beneficiary"]["reference"] == f"Patient/{patient_of(fhir, tasks['coverage.payor'])['id']}"


def test_tick_box_items_take_a_boolean_or_a_code(fhir, review):
    _, tasks = review
    assert close(fhir, tasks["allergies.known"], valueBoolean=True).status_code == 200
    refused = close(fhir, tasks["admission.class"], valueCoding={"code": "EMER"})
    assert refused.status_code == 422 and "not an answer of this item" in refused.text
    assert close(fhir, tasks["admission.class"], valueString="hospitalisation").status_code == 200
    got = answers(fhir, tasks["admission.class"])
    assert got["allergies.known"] == {"valueBoolean": True}
    assert got["admission.class"]["valueCoding"]["code"] == "IMP"
    assert search(fhir, "/Patient") == []  # these items belong to the response only


def test_rejecting_stores_nothing_and_the_last_closed_task_completes_the_response(fhir, review):
    _, tasks = review
    qr = tasks["patient.family"]["focus"]["reference"]
    for link_id, task in tasks.items():
        assert close(fhir, task, "rejected").status_code == 200, link_id
        status = fhir.get(qr).json()["status"]
        assert status == ("completed" if link_id == list(tasks)[-1] else "in-progress")
    assert "item" not in fhir.get(qr).json()
    assert search(fhir, "/Patient") == [] and search(fhir, "/Provenance") == []
    assert {t["status"] for t in search(fhir, "/Task?_count=100")} == {"rejected"}


def test_completing_without_a_value_or_in_the_wrong_type_is_refused(fhir, review):
    _, tasks = review
    missing = close(fhir, tasks["patient.birthDate"])
    assert missing.status_code == 422 and "needs its value in Task.output" in missing.text
    wrong_type = close(fhir, tasks["patient.family"], valueBoolean=True)
    assert wrong_type.status_code == 422 and "is given as valueString" in wrong_type.text
    not_a_date = close(fhir, tasks["patient.birthDate"], valueString="31/02/1980")
    assert not_a_date.status_code == 422 and "not a calendar date" in not_a_date.text
    assert search(fhir, "/Patient") == []


def test_the_field_comes_from_the_stored_task_not_from_the_update(fhir, review):
    _, tasks = review
    task = copy.deepcopy(tasks["medications"])
    task["input"][0]["valueString"] = "patient.family"  # an attempt to write elsewhere
    answer = close(fhir, task, valueString="Martin")
    assert answer.status_code == 422 and "'Martin' is not a known drug" in answer.text
    assert search(fhir, "/Patient") == []


def test_a_json_patch_closes_a_task_too(fhir, review):
    _, tasks = review
    patch = [{"op": "replace", "path": "/status", "value": "completed"},
             {"op": "add", "path": "/output", "value": [{"type": VALUE_TYPE, "valueString": "metformine"}]}]
    answer = fhir.patch(f"/Task/{tasks['medications']['id']}", json=patch,
                        headers={"Content-Type": "application/json-patch+json"})
    assert answer.status_code == 200, answer.text
    assert answers(fhir, tasks["medications"])["medications"] == {"valueString": "metformine"}


def test_fields_reviewed_before_the_name_join_the_patient_when_it_is_named(fhir, review):
    _, tasks = review
    assert close(fhir, tasks["patient.birthDate"], valueString="31/05/1985").status_code == 200
    assert close(fhir, tasks["patient.gender"], valueString="F").status_code == 200
    assert search(fhir, "/Patient") == []  # nobody named yet: the answers wait in the response
    assert answers(fhir, tasks["patient.gender"])["patient.gender"]["valueCoding"]["code"] == "female"
    assert close(fhir, tasks["patient.given"], valueString="Zoé").status_code == 200
    [patient] = search(fhir, "/Patient")
    assert patient["name"] == [{"given": ["Zoé"]}]
    assert patient["birthDate"] == "1985-05-31" and patient["gender"] == "female"


def test_two_reviews_of_one_form_at_once_both_land(fhir, server, review):
    _, tasks = review
    pending = [("medications", "metformine"), ("patient.address.line", "12 rue des Lilas")]

    def review_one(client):
        link_id, value = pending.pop()  # each thread its own field (list.pop is atomic)
        return close(client, tasks[link_id], valueString=value)

    results = race(server, 2, review_one)
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    got = answers(fhir, tasks["medications"])
    assert got["medications"] == {"valueString": "metformine"}
    assert got["patient.address.line"] == {"valueString": "12 rue des Lilas"}
