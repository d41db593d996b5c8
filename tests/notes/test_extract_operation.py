"""$extract over HTTP: raw text at system level, a stored DocumentReference at instance level."""

from __future__ import annotations

import base64

from mappers.notes.fhir import NLP_TAG, SPAN_EXTENSION

FHIR = "application/fhir+json"
NOTE_EN = ("DISCHARGE SUMMARY\nAllergies: Penicillin (rash), peanuts (anaphylaxis).\n"
           "Mother allergic to latex.\nDischarge medications:\n1. Metformin 500 mg PO twice daily\n")
NOTE_FR = "Allergie : codéine (vomissements).\nTraitement : Kardégic 75 mg 1 sachet par jour.\n"


def parameters(**values) -> dict:
    out = []
    for name, value in values.items():
        key = {"text": "valueString", "language": "valueCode", "subject": "valueReference"}[name]
        out.append({"name": name, key: value})
    return {"resourceType": "Parameters", "parameter": out}


def by_type(bundle: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def span(provenance: dict) -> tuple[int, int, str]:
    [ext] = [x for x in provenance["entity"][0]["extension"] if x["url"] == SPAN_EXTENSION]
    parts = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in ext["extension"]}
    return parts["start"], parts["end"], parts["text"]


def test_text_gives_unconfirmed_resources_with_their_spans_and_stores_nothing(fhir, server):
    r = fhir.post("/$extract", json=parameters(text=NOTE_EN, language="en", subject={"reference": "Patient/p1"}),
                  headers={"Content-Type": FHIR})
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    allergies, statements = by_type(bundle, "AllergyIntolerance"), by_type(bundle, "MedicationStatement")
    assert [a["code"]["text"] for a in allergies] == ["Penicillin", "peanuts"]  # the mother's latex is not hers
    assert all(a["verificationStatus"]["coding"][0]["code"] == "unconfirmed" for a in allergies)
    assert all(a["patient"] == {"reference": "Patient/p1"} and NLP_TAG in a["meta"]["tag"] for a in allergies)
    assert allergies[1]["category"] == ["food"]
    assert allergies[1]["reaction"][0]["manifestation"][0]["coding"][0]["code"] == "39579001"
    [metformin] = statements
    assert metformin["status"] == "active"
    assert {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6809",
            "display": "metformin"} in metformin["medicationCodeableConcept"]["coding"]
    dosage = metformin["dosage"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {"value": 500, "unit": "mg", "code": "mg",
                                                        "system": "http://unitsofmeasure.org"}
    assert dosage["timing"]["repeat"] == {"frequency": 2, "period": 1, "periodUnit": "d"}
    assert dosage["route"]["coding"][0]["code"] == "26643006"
    provenances = by_type(bundle, "Provenance")
    assert len(provenances) == 3
    full_urls = {e["resource"].get("identifier", [{}])[0].get("value"): e["fullUrl"] for e in bundle["entry"]}
    for provenance in provenances:
        start, end, text = span(provenance)
        assert NOTE_EN[start:end] == text
        assert provenance["target"][0]["reference"] in full_urls.values()
    for resource in [*allergies, *statements, *provenances]:
        server.ctx.store.validate(resource)  # structurally valid R4
    assert fhir.get("/AllergyIntolerance").json().get("entry", []) == []
    assert fhir.get("/Provenance").json().get("entry", []) == []


def test_french_text_and_the_language_guessed_when_not_given(fhir):
    r = fhir.post("/$extract", json=parameters(text=NOTE_FR), headers={"Content-Type": FHIR})
    assert r.status_code == 200, r.text
    bundle = r.json()
    [allergy] = by_type(bundle, "AllergyIntolerance")
    assert allergy["code"]["text"] == "codéine"
    assert allergy["reaction"][0]["manifestation"][0]["coding"][0]["code"] == "422400008"
    [aspirin] = by_type(bundle, "MedicationStatement")
    assert aspirin["medicationCodeableConcept"]["text"] == "Kardégic"
    assert aspirin["dosage"][0]["doseAndRate"][0]["doseQuantity"] == {"value": 1, "unit": "sachet"}
    assert "patient" not in allergy  # no subject given: the resources belong to no one yet


def test_a_stored_document_is_read_at_instance_level(fhir):
    document = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {
        "contentType": "text/plain; charset=utf-8", "language": "fr",
        "data": base64.b64encode(NOTE_FR.encode()).decode()}}]}
    created = fhir.post("/DocumentReference", json=document, headers={"Content-Type": FHIR}).json()
    r = fhir.get(f"/DocumentReference/{created['id']}/$extract")
    assert r.status_code == 200, r.text
    [provenance, *_] = by_type(r.json(), "Provenance")
    assert provenance["entity"][0]["what"] == {"reference": f"DocumentReference/{created['id']}/_history/1"}
    assert span(provenance)[2] == "codéine"


def test_bad_requests_get_an_operation_outcome(fhir):
    def post(body):
        return fhir.post("/$extract", json=body, headers={"Content-Type": FHIR})

    r = post(parameters(language="en"))
    assert r.status_code == 400 and "text" in r.json()["issue"][0]["diagnostics"]
    r = post(parameters(text="Allergies: none", language="de"))
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["language"]
    r = post({"resourceType": "Patient"})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    empty = fhir.post("/DocumentReference", json={"resourceType": "DocumentReference", "status": "current",
                                                   "content": [{"attachment": {"contentType": "application/pdf",
                                                                               "url": "http://example.org/x.pdf"}}]},
                      headers={"Content-Type": FHIR}).json()
    r = fhir.get(f"/DocumentReference/{empty['id']}/$extract")
    assert r.status_code == 422 and r.json()["resourceType"] == "OperationOutcome"
    assert fhir.get("/DocumentReference/nope/$extract").status_code == 404
    assert fhir.post("/DocumentReference/$extract", json=parameters(text="x"),
                     headers={"Content-Type": FHIR}).status_code == 404  # not a type-level operation


def test_the_capability_statement_advertises_extract(fhir):
    statement = fhir.get("/metadata").json()
    system_ops = [o["name"] for o in statement["rest"][0].get("operation", [])]
    document = next(r for r in statement["rest"][0]["resource"] if r["type"] == "DocumentReference")
    assert "extract" in system_ops
    assert "extract" in [o["name"] for o in document.get("operation", [])]


def test_an_observation_note_is_read_at_instance_level(fhir):
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "nursing note"},
                   "valueString": "Pt allergic to latex (anaphylaxis). Paracetamol 1 g IV q6h."}
    created = fhir.post("/Observation", json=observation, headers={"Content-Type": FHIR}).json()
    bundle = fhir.get(f"/Observation/{created['id']}/$extract").json()
    assert [a["code"]["text"] for a in by_type(bundle, "AllergyIntolerance")] == ["latex"]
    assert [m["medicationCodeableConcept"]["text"] for m in by_type(bundle, "MedicationStatement")] == ["Paracetamol"]
    result = fhir.post("/Observation", json={**observation, "valueString": "Negative"},
                       headers={"Content-Type": FHIR}).json()
    assert fhir.get(f"/Observation/{result['id']}/$extract").status_code == 422
