"""Drug-drug interaction alerts (DRG) through the REST API, from the ANSM and ONC sources."""

from __future__ import annotations

from tests.alerts.fhirdata import order, patient, statement

KNOWLEDGE_SOURCE = "urn:passerelle:knowledge-source"


def sources(issue: dict) -> list[tuple[str, str]]:
    return [(c["code"], c["version"]) for e in issue["evidence"] for cc in e["code"] for c in cc["coding"]
            if c["system"] == KNOWLEDGE_SOURCE]


def test_ansm_interaction_between_a_statement_and_an_order(record):
    p = record.create(patient())
    warfarin = record.create(statement(p["id"], text="Coumadine (warfarine) 5 mg"))
    aspirin = record.create(order(p["id"], rxnorm="1191", display="aspirin"))
    [issue] = record.alerts(p["id"])
    assert issue["code"]["coding"][0]["code"] == "DRG"
    assert issue["severity"] == "high"
    assert {i["reference"] for i in issue["implicated"]} == {f"MedicationStatement/{warfarin['id']}",
                                                             f"MedicationRequest/{aspirin['id']}"}
    assert ("ansm", "2020-10") in sources(issue)
    assert "hémorragique" in issue["detail"]  # the thesaurus's mechanism, in its own words
    assert "ANSM, thésaurus des interactions médicamenteuses, oct. 2020" in issue["detail"]
    assert issue["reference"].startswith("https://ansm.sante.fr/")


def test_onc_interaction_that_ansm_does_not_list(record):
    p = record.create(patient())
    record.create(order(p["id"], text="tizanidine 4 mg tablet"))
    record.create(order(p["id"], text="ciprofloxacin 500 mg"))
    [issue] = record.alerts(p["id"])
    assert issue["severity"] == "high"
    assert sources(issue) == [("onc", "2012")]
    assert "Tizanidine + CYP1A2 inhibitors" in issue["detail"]


def test_both_sources_are_kept_as_evidence(record):
    p = record.create(patient())
    record.create(order(p["id"], text="simvastatin 40 mg"))
    record.create(order(p["id"], text="clarithromycin 500 mg"))
    [issue] = record.alerts(p["id"])
    assert {code for code, _ in sources(issue)} == {"ansm", "onc"}
    assert issue["severity"] == "high"


def test_inactive_medication_and_other_patients_do_not_interact(record):
    p, other = record.create(patient("Un")), record.create(patient("Deux"))
    record.create(order(p["id"], text="warfarin 5 mg", status="completed"))
    record.create(order(p["id"], text="aspirin 500 mg"))
    record.create(order(other["id"], text="warfarin 5 mg"))
    assert record.alerts(p["id"]) == [] and record.alerts(other["id"]) == []


def test_same_substance_twice_is_not_an_interaction(record):
    p = record.create(patient())
    record.create(order(p["id"], text="amoxicillin 500 mg"))
    record.create(statement(p["id"], text="amoxicilline 1 g"))
    assert record.alerts(p["id"]) == []


def test_interaction_and_allergy_alerts_together(record):
    p = record.create(patient())
    record.create(statement(p["id"], text="méthotrexate 15 mg par semaine"))
    record.create(order(p["id"], text="Bactrim (sulfamethoxazole / trimethoprim)"))
    record.create({"resourceType": "AllergyIntolerance", "patient": {"reference": f"Patient/{p['id']}"},
                   "code": {"text": "sulfamides"}})
    kinds = sorted(i["code"]["coding"][0]["code"] for i in record.alerts(p["id"]))
    assert kinds == ["ALGY", "DRG"]


def test_order_of_a_stored_medication_resource(record):
    p = record.create(patient())
    med = record.create({"resourceType": "Medication", "code": {"coding": [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1191", "display": "aspirin"}]}})
    record.create(statement(p["id"], text="warfarin 5 mg"))
    mr = order(p["id"])
    del mr["medicationCodeableConcept"]
    mr["medicationReference"] = {"reference": f"Medication/{med['id']}"}
    record.create(mr)
    [issue] = record.alerts(p["id"])
    assert issue["severity"] == "high" and issue["code"]["coding"][0]["code"] == "DRG"
