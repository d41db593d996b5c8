"""Allergy alerts (ALGY) through the REST API: orders against recorded allergies."""

from __future__ import annotations

from tests.alerts.fhirdata import RXNORM, allergy, order, patient, statement

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def codes(issue: dict) -> list[str]:
    return [c["code"] for c in issue["code"]["coding"] if c["system"] == ACT_CODE]


def test_penicillin_allergy_then_amoxicillin_order(record):
    p = record.create(patient())
    a = record.create(allergy(p["id"], text="Allergy to penicillin"))
    m = record.create(order(p["id"], rxnorm="723", display="amoxicillin"))
    [issue] = record.alerts(p["id"])
    assert codes(issue) == ["ALGY"]
    assert issue["severity"] == "high"
    assert issue["status"] == "final"
    assert issue["patient"] == {"reference": f"Patient/{p['id']}"}
    assert issue["author"]["display"].startswith("Passerelle alert engine")
    assert [i["reference"] for i in issue["implicated"]] == [f"MedicationRequest/{m['id']}",
                                                              f"AllergyIntolerance/{a['id']}"]
    assert "amoxicillin is one of the penicillins" in issue["detail"]
    [evidence] = issue["evidence"]
    assert evidence["detail"] == [{"reference": f"AllergyIntolerance/{a['id']}"}]
    assert evidence["code"][0]["coding"][0]["code"] == "allergens"
    assert evidence["code"][0]["coding"][0]["version"]  # the edition of the allergen classes
    # Searchable by code as well as by patient.
    assert [i["id"] for i in record.alerts(p["id"], ("code", f"{ACT_CODE}|ALGY"))] == [issue["id"]]
    assert record.alerts(p["id"], ("code", f"{ACT_CODE}|DRG")) == []


def test_allergy_recorded_after_the_medication(record):
    p = record.create(patient())
    record.create(statement(p["id"], text="Ibuprofène 400 mg, 3 fois par jour"))
    assert record.alerts(p["id"]) == []
    record.create(allergy(p["id"], text="Allergie à l'aspirine (urticaire)"))
    [issue] = record.alerts(p["id"])
    assert issue["severity"] == "high"
    assert "ibuprofen and aspirin are both nonsteroidal anti-inflammatory drugs" in issue["detail"]


def test_class_cross_reactivity(record):
    p = record.create(patient())
    record.create(allergy(p["id"], coding=[{"system": RXNORM, "code": "723", "display": "amoxicillin"}]))
    same_side_chain = record.create(order(p["id"], text="Cephalexin 500 MG Oral Capsule"))
    other_cephalosporin = record.create(order(p["id"], text="ceftriaxone 1 g IV"))
    unrelated = record.create(order(p["id"], text="paracetamol 1 g"))
    by_order = {i["implicated"][0]["reference"]: i for i in record.alerts(p["id"])}
    assert set(by_order) == {f"MedicationRequest/{same_side_chain['id']}",
                             f"MedicationRequest/{other_cephalosporin['id']}"}
    assert f"MedicationRequest/{unrelated['id']}" not in by_order
    assert by_order[f"MedicationRequest/{same_side_chain['id']}"]["severity"] == "high"
    assert "identical R1 side chain" in by_order[f"MedicationRequest/{same_side_chain['id']}"]["detail"]
    assert by_order[f"MedicationRequest/{other_cephalosporin['id']}"]["severity"] == "low"


def test_french_class_allergy_against_a_combination(record):
    p = record.create(patient())
    record.create(allergy(p["id"], text="pénicillines"))
    record.create(order(p["id"], text="Augmentin 1 g/125 mg"))  # amoxicillin + clavulanic acid
    [issue] = record.alerts(p["id"])
    assert issue["severity"] == "high"


def test_no_alert_for_refuted_entered_in_error_or_negated_allergy(record):
    p = record.create(patient())
    record.create(allergy(p["id"], text="penicillin allergy", verification="refuted"))
    record.create(allergy(p["id"], text="penicillin", verification="entered-in-error"))
    record.create(allergy(p["id"], text="No known drug allergy"))
    record.create(allergy(p["id"], text="penicillin", clinical="resolved"))
    record.create(order(p["id"], rxnorm="723"))
    assert record.alerts(p["id"]) == []


def test_resave_makes_no_duplicate_and_no_new_version(record):
    p = record.create(patient())
    record.create(allergy(p["id"], text="sulfa drugs"))
    m = record.create(order(p["id"], text="Bactrim forte"))
    [first] = record.alerts(p["id"])
    record.update(m)
    record.update(m)
    [again] = record.alerts(p["id"])
    assert again["id"] == first["id"]
    assert again["meta"]["versionId"] == "1"


def test_alert_cancelled_when_the_allergy_is_refuted_and_back_when_confirmed(record):
    p = record.create(patient())
    a = record.create(allergy(p["id"], text="Omnipaque (iohexol)"))
    record.create(order(p["id"], text="iopamidol 370 mg I/mL injection"))
    [issue] = record.alerts(p["id"])
    # Another iodinated contrast medium: cross-reactivity is moderate within that class.
    assert (issue["status"], issue["severity"]) == ("final", "moderate")
    a["verificationStatus"]["coding"][0]["code"] = "refuted"
    record.update(a)
    [cancelled] = record.alerts(p["id"])
    assert (cancelled["id"], cancelled["status"]) == (issue["id"], "cancelled")
    a["verificationStatus"]["coding"][0]["code"] = "confirmed"
    record.update(a)
    [back] = record.alerts(p["id"])
    assert (back["id"], back["status"]) == (issue["id"], "final")


def test_extracted_allergy_gives_a_preliminary_alert(record):
    # As the note extraction writes it: coded with the knowledge base's class id, unconfirmed.
    p = record.create(patient())
    record.create(allergy(p["id"], verification="unconfirmed", coding=[
        {"system": "urn:passerelle:knowledge:allergen-class", "code": "penicillins", "display": "penicillins"}]))
    record.create(order(p["id"], text="amoxicilline 1 g"))
    [issue] = record.alerts(p["id"])
    assert issue["status"] == "preliminary"
    assert "not confirmed" in issue["detail"]


def test_stopped_or_deleted_order_cancels_its_alert(record, fhir):
    p = record.create(patient())
    record.create(allergy(p["id"], text="penicillin"))
    stopped = record.create(order(p["id"], text="amoxicillin"))
    deleted = record.create(order(p["id"], text="piperacillin / tazobactam"))
    assert {i["status"] for i in record.alerts(p["id"])} == {"final"}
    stopped["status"] = "stopped"
    record.update(stopped)
    assert fhir.delete(f"/MedicationRequest/{deleted['id']}").status_code in (200, 204)
    assert [i["status"] for i in record.alerts(p["id"])] == ["cancelled", "cancelled"]


def test_transaction_bundle_with_new_patient(record, fhir):
    new_patient = {"reference": "urn:uuid:0b7f3f4e-0000-4000-8000-000000000001"}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": new_patient["reference"], "resource": patient(), "request": {"method": "POST", "url": "Patient"}},
        {"resource": allergy("X", text="AINS") | {"patient": new_patient},
         "request": {"method": "POST", "url": "AllergyIntolerance"}},
        {"resource": order("X", text="kétoprofène 100 mg") | {"subject": new_patient},
         "request": {"method": "POST", "url": "MedicationRequest"}},
    ]}
    r = fhir.post("", json=bundle)
    assert r.status_code == 200, r.text
    patient_id = r.json()["entry"][0]["response"]["location"].split("/")[1]
    [issue] = record.alerts(patient_id)
    assert issue["severity"] == "high"


def test_other_patients_allergy_does_not_count(record):
    p1, p2 = record.create(patient("Un")), record.create(patient("Deux"))
    record.create(allergy(p1["id"], text="penicillin"))
    record.create(order(p2["id"], text="amoxicillin"))
    assert record.alerts(p1["id"]) == [] and record.alerts(p2["id"]) == []


def test_concurrent_writes_for_one_patient_make_one_alert_each(record, server):
    from concurrent.futures import ThreadPoolExecutor

    p = record.create(patient())
    record.create(allergy(p["id"], text="penicillin"))
    drugs = ["amoxicillin", "ampicillin", "piperacillin", "oxacillin", "cloxacillin", "ticarcillin"]

    def post(drug: str) -> str:
        with server.client() as client:
            r = client.post("/MedicationRequest", json=order(p["id"], text=drug))
            assert r.status_code == 201, r.text
            return r.json()["id"]

    with ThreadPoolExecutor(len(drugs)) as pool:
        ids = set(pool.map(post, drugs))
    issues = record.alerts(p["id"])
    assert sorted(i["implicated"][0]["reference"] for i in issues) == sorted(f"MedicationRequest/{i}" for i in ids)
    assert all(i["status"] == "final" and i["meta"]["versionId"] == "1" for i in issues)


def test_alert_marked_entered_in_error_stays_so(record):
    p = record.create(patient())
    record.create(allergy(p["id"], text="penicillin"))
    m = record.create(order(p["id"], text="amoxicillin"))
    [issue] = record.alerts(p["id"])
    record.update({**issue, "status": "entered-in-error"})
    record.update({**m, "note": [{"text": "dose checked"}]})
    [after] = record.alerts(p["id"])
    assert (after["status"], after["meta"]["versionId"]) == ("entered-in-error", "2")


def test_order_moved_to_another_patient(record):
    wrong, right = record.create(patient("Erreur")), record.create(patient("Bon"))
    record.create(allergy(wrong["id"], text="penicillin"))
    record.create(allergy(right["id"], text="aspirin"))
    m = record.create(order(wrong["id"], text="amoxicillin"))
    assert [i["status"] for i in record.alerts(wrong["id"])] == ["final"]
    record.update({**m, "subject": {"reference": f"Patient/{right['id']}"}})
    assert [i["status"] for i in record.alerts(wrong["id"])] == ["cancelled"]
    assert record.alerts(right["id"]) == []  # amoxicillin does not concern an aspirin allergy
