"""The notes listener over HTTP: a stored text document gets its allergies and medications."""

from __future__ import annotations

import base64

from mappers.notes.fhir import NLP_SYSTEM, SPAN_EXTENSION
from server.notes import NoteExtraction

FHIR = {"Content-Type": "application/fhir+json"}
LETTER = ("Cher confrère,\nJe vous adresse Mme R., 64 ans. Allergie : pénicilline (urticaire).\n"
          "Sa mère est allergique à l'aspirine.\n"
          "Traitement : metformine 850 mg matin et soir, Levothyrox 75 µg le matin.\n"
          "Ancien traitement par simvastatine, arrêtée pour myalgies.\n")


def document(patient_id: str | None, text: str, language: str | None = "fr") -> dict:
    attachment = {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}
    if language:
        attachment["language"] = language
    doc = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": attachment}]}
    if patient_id:
        doc["subject"] = {"reference": f"Patient/{patient_id}"}
    return doc


def entries(fhir, query: str) -> list[dict]:
    found = fhir.get(query).json().get("entry", [])
    return [e["resource"] for e in found if e.get("search", {}).get("mode") != "outcome"]


def new_patient(fhir) -> str:
    created = fhir.post("/Patient", json={"resourceType": "Patient", "name": [{"family": "Roux"}]}, headers=FHIR)
    return created.json()["id"]


def test_a_stored_letter_gets_its_allergies_and_medications(fhir):
    patient = new_patient(fhir)
    doc = fhir.post("/DocumentReference", json=document(patient, LETTER), headers=FHIR)
    assert doc.status_code == 201, doc.text
    doc_id = doc.json()["id"]

    [allergy] = entries(fhir, f"/AllergyIntolerance?patient={patient}")
    assert allergy["code"]["text"] == "pénicilline"
    assert allergy["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    assert allergy["reaction"][0]["manifestation"][0]["coding"][0]["code"] == "126485001"
    statements = entries(fhir, f"/MedicationStatement?subject=Patient/{patient}&_sort=_id")
    assert sorted((s["medicationCodeableConcept"]["text"], s["status"]) for s in statements) == [
        ("Levothyrox", "active"), ("metformine", "active"), ("simvastatine", "stopped")]
    assert all(s["derivedFrom"] == [{"reference": f"DocumentReference/{doc_id}/_history/1"}] for s in statements)

    provenances = entries(fhir, f"/Provenance?entity=DocumentReference/{doc_id}/_history/1")
    assert len(provenances) == 4
    for provenance in provenances:
        [span] = provenance["entity"][0]["extension"]
        assert span["url"] == SPAN_EXTENSION
        start, end, text = (p[k] for p, k in zip(span["extension"], ("valueInteger", "valueInteger", "valueString")))
        assert LETTER[start:end] == text
    targets = {p["target"][0]["reference"] for p in provenances}
    assert f"AllergyIntolerance/{allergy['id']}" in targets


def test_saving_the_same_note_again_duplicates_nothing(fhir, server):
    patient = new_patient(fhir)
    doc = fhir.post("/DocumentReference", json=document(patient, LETTER), headers=FHIR).json()
    counts = lambda: (len(entries(fhir, f"/AllergyIntolerance?patient={patient}")),  # noqa: E731
                      len(entries(fhir, f"/MedicationStatement?subject=Patient/{patient}")),
                      len(entries(fhir, "/Provenance")))
    assert counts() == (1, 3, 4)
    # a new version with the same text: same resources, the Provenance follows the new version
    updated = fhir.put(f"/DocumentReference/{doc['id']}", json={**document(patient, LETTER), "id": doc["id"]},
                       headers=FHIR)
    assert updated.status_code == 200
    assert counts() == (1, 3, 4)
    assert len(entries(fhir, f"/Provenance?entity=DocumentReference/{doc['id']}/_history/2")) == 4
    # the same version read again (a replay): nothing written at all
    listener = next(x for x in server.ctx.store.listeners if isinstance(x, NoteExtraction))
    assert listener.read_note(server.ctx.store, "DocumentReference", doc["id"]) == 0
    assert counts() == (1, 3, 4)


def test_identifiers_tie_each_resource_to_its_document_and_span(fhir):
    patient = new_patient(fhir)
    doc = fhir.post("/DocumentReference", json=document(patient, LETTER), headers=FHIR).json()
    [allergy] = entries(fhir, f"/AllergyIntolerance?patient={patient}")
    [identifier] = allergy["identifier"]
    assert identifier["system"] == NLP_SYSTEM
    start = LETTER.index("pénicilline")
    assert identifier["value"] == f"DocumentReference/{doc['id']}/allergy/{start}-{start + 11}/cls:penicillins"
    found = entries(fhir, f"/AllergyIntolerance?identifier={NLP_SYSTEM}|{identifier['value']}")
    assert [a["id"] for a in found] == [allergy["id"]]


def test_english_note_without_language_metadata(fhir):
    patient = new_patient(fhir)
    note = "Nursing note: pt states allergy to shellfish (throat swelling). Given ondansetron 4 mg IV at 16:00."
    fhir.post("/DocumentReference", json=document(patient, note, language=None), headers=FHIR)
    [allergy] = entries(fhir, f"/AllergyIntolerance?patient={patient}")
    assert (allergy["code"]["text"], allergy["category"]) == ("shellfish", ["food"])
    [statement] = entries(fhir, f"/MedicationStatement?subject=Patient/{patient}")
    assert statement["dosage"][0]["route"]["coding"][0]["code"] == "47625008"


def test_nothing_is_written_for_negations_for_no_patient_or_for_other_documents(fhir):
    patient = new_patient(fhir)
    fhir.post("/DocumentReference", json=document(patient, "Pas d'allergie connue. Aucun traitement."), headers=FHIR)
    fhir.post("/DocumentReference", json=document(None, LETTER), headers=FHIR)  # whose allergies would they be?
    pdf = document(patient, "x")
    pdf["content"][0]["attachment"] = {"contentType": "application/pdf", "data": base64.b64encode(b"%PDF").decode()}
    fhir.post("/DocumentReference", json=pdf, headers=FHIR)
    assert entries(fhir, "/AllergyIntolerance") == []
    assert entries(fhir, "/MedicationStatement") == []
    assert entries(fhir, "/Provenance") == []


def test_an_extracted_allergy_raises_an_alert_against_an_order(fhir):
    patient = new_patient(fhir)
    fhir.post("/DocumentReference", json=document(patient, LETTER), headers=FHIR)
    order = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
             "subject": {"reference": f"Patient/{patient}"},
             "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                       "code": "723", "display": "amoxicillin"}]}}
    assert fhir.post("/MedicationRequest", json=order, headers=FHIR).status_code == 201
    issues = entries(fhir, f"/DetectedIssue?patient={patient}")
    assert any(c["code"] == "ALGY" for i in issues for c in i.get("code", {}).get("coding", [])), issues


def test_a_narrative_observation_is_read_too(fhir):
    patient = new_patient(fhir)
    text = "INR 3.4 - patient on warfarin 5 mg daily; allergic to aspirin (hives)."
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "INR comment"},
                   "subject": {"reference": f"Patient/{patient}"}, "valueString": text}
    created = fhir.post("/Observation", json=observation, headers=FHIR).json()
    [statement] = entries(fhir, f"/MedicationStatement?subject=Patient/{patient}")
    assert statement["derivedFrom"] == [{"reference": f"Observation/{created['id']}/_history/1"}]
    assert statement["dosage"][0]["timing"]["repeat"]["frequency"] == 1
    [allergy] = entries(fhir, f"/AllergyIntolerance?patient={patient}")
    assert allergy["code"]["text"] == "aspirin"
    short = {**observation, "valueString": "Negative"}  # a result, not a note
    fhir.post("/Observation", json=short, headers=FHIR)
    assert len(entries(fhir, "/Provenance")) == 2
