"""DocumentReference/$ingest-form over HTTP, with real Tesseract on generated forms."""

from __future__ import annotations

import base64

import pytest

NIR = "urn:oid:1.2.250.1.213.1.4.8"


def ingest(fhir, path, **more):
    parameters = [{"name": "file", "valueAttachment": {
        "contentType": "image/png", "title": path.name, "data": base64.b64encode(path.read_bytes()).decode()}}]
    parameters += [{"name": k, "valueString": v} for k, v in more.items()]
    return fhir.post("/DocumentReference/$ingest-form", json={"resourceType": "Parameters", "parameter": parameters})


def out(parameters: dict, name: str) -> list:
    return [next(v for k, v in p.items() if k.startswith("value")) for p in parameters["parameter"]
            if p["name"] == name]


def search(fhir, query: str) -> list[dict]:
    bundle = fhir.get(query).json()
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") != "outcome"]


def test_admission_form_becomes_resources_once_and_the_original_is_kept(fhir, forms):
    form = forms["admission-fr.png"]
    response = ingest(fhir, form.path)
    assert response.status_code == 200, response.text
    result = response.json()
    assert out(result, "outcome") == ["read"] and out(result, "pages") == [1]
    document = fhir.get(out(result, "document")[0]["reference"]).json()
    assert document["docStatus"] == "final"
    attachment = document["content"][0]["attachment"]
    assert attachment["title"] == "admission-fr.png" and attachment["contentType"] == "image/png"
    original = fhir.get(attachment["url"], headers={"Accept": "application/fhir+json"}).json()
    assert base64.b64decode(original["data"]) == form.path.read_bytes()

    patients = search(fhir, f"/Patient?identifier={NIR}|{form.expected(0, 'patient.nir')}")
    assert len(patients) == 1
    patient = patients[0]
    assert patient["name"][0]["family"] == form.expected(0, "patient.family")
    assert patient["name"][0]["given"] == [form.expected(0, "patient.given")]
    assert patient["birthDate"] == form.expected(0, "patient.birthDate")
    assert patient["gender"] == form.expected(0, "patient.gender")
    assert document["subject"]["reference"] == f"Patient/{patient['id']}"

    allergies = search(fhir, f"/AllergyIntolerance?patient=Patient/{patient['id']}")
    assert sorted(a["code"]["text"] for a in allergies) == sorted(c.text for c in form.expected(0, "allergies"))
    coverage = search(fhir, f"/Coverage?beneficiary=Patient/{patient['id']}")
    assert [c["payor"][0]["display"] for c in coverage] == [form.expected(0, "coverage.payor")]

    response_ = search(fhir, "/QuestionnaireResponse")[0]
    assert response_["questionnaire"].startswith("http://passerelle.example.org/fhir/Questionnaire/admission-fr")
    assert document["context"]["related"] == [{"reference": f"QuestionnaireResponse/{response_['id']}"}]
    # Every field is either stored exactly as printed or waiting for review, never stored wrong.
    answered = {i["linkId"]: i["answer"][0] for i in response_.get("item", [])}
    reviewed = {t["input"][0]["valueString"] for t in search(fhir, "/Task")}
    for link_id in form.pages[0]["values"]:
        assert (link_id in answered) != (link_id in reviewed), link_id
    for link_id in ("patient.family", "patient.nir", "patient.phone", "patient.address.postalCode"):
        assert answered[link_id]["valueString"] == form.expected(0, link_id)
    assert len(search(fhir, "/Questionnaire")) == 1

    # The same file again: recognised by its hash, nothing changes.
    counts = {t: len(search(fhir, f"/{t}?_count=100")) for t in ("Patient", "QuestionnaireResponse",
                                                                  "DocumentReference", "Binary", "Task")}
    again = ingest(fhir, form.path)
    assert again.status_code == 200
    assert out(again.json(), "outcome") == ["already-read"]
    assert out(again.json(), "document") == out(result, "document")
    assert counts == {t: len(search(fhir, f"/{t}?_count=100")) for t in counts}


def test_a_field_failing_its_check_becomes_a_review_task_not_a_fact(fhir, forms):
    form = forms["bad-nir.jpg"]
    result = ingest(fhir, form.path).json()
    tasks = [fhir.get(r["reference"]).json() for r in out(result, "review")]
    nir_tasks = [t for t in tasks if t["input"][0]["valueString"] == "patient.nir"]
    assert len(nir_tasks) == 1
    task = nir_tasks[0]
    inputs = {i["type"]["text"]: next(v for k, v in i.items() if k.startswith("value")) for i in task["input"]}
    assert inputs["problem"] == "the NIR key (mod 97) does not match"
    assert inputs["candidate"].replace(" ", "") == form.pages[0]["values"]["patient.nir"].replace(" ", "")
    crop = fhir.get(inputs["image"]["reference"]).json()
    assert crop["contentType"] == "image/png" and base64.b64decode(crop["data"]).startswith(b"\x89PNG")
    assert task["status"] == "requested" and task["focus"]["reference"].startswith("QuestionnaireResponse/")

    patient = fhir.get(task["for"]["reference"]).json()
    assert "identifier" not in patient  # the doubtful NIR is not stored as the patient's identifier
    assert patient["name"][0]["family"] == form.expected(0, "patient.family")
    response = fhir.get(task["focus"]["reference"]).json()
    assert response["status"] == "in-progress"
    assert "patient.nir" not in {i["linkId"] for i in response["item"]}


def test_a_binary_body_with_a_two_page_pdf(fhir, forms):
    form = forms["two-pages.pdf"]
    binary = {"resourceType": "Binary", "contentType": "application/pdf",
              "data": base64.b64encode(form.path.read_bytes()).decode()}
    result = fhir.post("/DocumentReference/$ingest-form", json=binary)
    assert result.status_code == 200, result.text
    assert out(result.json(), "pages") == [2]
    responses = search(fhir, "/QuestionnaireResponse")
    assert sorted(r["questionnaire"].rsplit("/", 1)[1] for r in responses) == ["admission-en|1", "referral-fr|1"]
    rpps = form.expected(0, "practitioner.rpps")
    practitioners = search(fhir, f"/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|{rpps}")
    assert [p["name"][0]["family"] for p in practitioners] == [form.expected(0, "practitioner.family")]
    referral = next(r for r in responses if "referral-fr" in r["questionnaire"])
    assert referral["author"]["reference"] == f"Practitioner/{practitioners[0]['id']}"
    # one patient per page, each found by the identifier its form carries
    assert len(search(fhir, f"/Patient?identifier={NIR}|{form.expected(0, 'patient.nir')}")) == 1
    mrn = form.expected(1, "patient.mrn")
    assert len(search(fhir, f"/Patient?identifier=http://hospital.example.org/identifiers/mrn|{mrn}")) == 1


@pytest.mark.parametrize("body, message", [
    ({"resourceType": "Parameters"}, "needs a 'file' parameter"),
    ({"resourceType": "Parameters", "parameter": [{"name": "file", "valueAttachment": {"data": "%%%"}}]},
     "not valid base64"),
    ({"resourceType": "Binary", "contentType": "text/plain", "data": base64.b64encode(b"hello").decode()},
     "not a PDF, PNG, JPEG or TIFF file"),
    ({"resourceType": "Patient"}, "takes a Parameters (file) or a Binary"),
])
def test_bad_requests_are_refused_and_store_nothing(fhir, body, message):
    response = fhir.post("/DocumentReference/$ingest-form", json=body)
    assert response.status_code == 400
    assert message in response.json()["issue"][0]["diagnostics"]
    assert search(fhir, "/DocumentReference") == []


def test_unknown_template_is_refused_before_anything_is_stored(fhir, forms):
    response = ingest(fhir, forms["admission-fr.png"].path, template="no-such-form")
    assert response.status_code == 400
    assert "known: admission-en, admission-fr, referral-en, referral-fr" in response.json()["issue"][0]["diagnostics"]
    assert search(fhir, "/DocumentReference") == []


def test_a_page_no_template_matches_is_kept_and_tagged_failed(fhir, tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (2480, 3508), 255).save(blank)
    response = ingest(fhir, blank)
    assert response.status_code == 422
    assert "no form template matches" in response.json()["issue"][0]["diagnostics"]
    documents = search(fhir, "/DocumentReference?_tag=urn:passerelle:form-intake|failed")
    assert len(documents) == 1 and documents[0]["description"].startswith("Not read: page 1:")


def test_get_is_refused_since_the_operation_writes(fhir):
    assert fhir.get("/DocumentReference/$ingest-form").status_code == 405


def test_rapidocr_is_selectable_and_never_stores_a_keyed_field_wrong(fhir, server, forms):
    if server.backend != "sqlite":
        pytest.skip("the OCR engine does not depend on the database: run once")
    form = forms["referral-en.tiff"]
    response = ingest(fhir, form.path, engine="rapidocr")
    assert response.status_code == 200, response.text
    [questionnaire_response] = search(fhir, "/QuestionnaireResponse")
    answered = {i["linkId"]: i["answer"][0] for i in questionnaire_response.get("item", [])}
    reviewed = {t["input"][0]["valueString"] for t in search(fhir, "/Task")}
    assert set(answered) | reviewed == set(form.pages[0]["values"])
    if "practitioner.npi" in answered:
        assert answered["practitioner.npi"]["valueString"] == form.expected(0, "practitioner.npi")
    assert len(answered) >= 6  # most of a clean English letter is read


def test_an_unknown_engine_is_refused(fhir, forms):
    response = ingest(fhir, forms["admission-fr.png"].path, engine="gocr")
    assert response.status_code == 400
    assert "engine must be one of tesseract, rapidocr" in response.json()["issue"][0]["diagnostics"]
