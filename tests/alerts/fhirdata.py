"""Synthetic records for the alert and CDS Hooks tests (no real patient data)."""

from __future__ import annotations

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"


def patient(family: str = "Testeur") -> dict:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Alex"]}], "gender": "other"}


def allergy(patient_id: str, *, text: str | None = None, coding: list[dict] | None = None,
            verification: str | None = "confirmed", clinical: str = "active") -> dict:
    code: dict = {}
    if coding:
        code["coding"] = coding
    if text:
        code["text"] = text
    resource = {"resourceType": "AllergyIntolerance", "patient": {"reference": f"Patient/{patient_id}"},
                "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]}, "code": code}
    if verification:
        resource["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": verification}]}
    return resource


def order(patient_id: str, *, text: str | None = None, rxnorm: str | None = None, status: str = "active",
          display: str | None = None) -> dict:
    concept: dict = {}
    if rxnorm:
        concept["coding"] = [{"system": RXNORM, "code": rxnorm, **({"display": display} if display else {})}]
    if text:
        concept["text"] = text
    return {"resourceType": "MedicationRequest", "status": status, "intent": "order",
            "subject": {"reference": f"Patient/{patient_id}"}, "medicationCodeableConcept": concept}


def statement(patient_id: str, *, text: str, status: str = "active") -> dict:
    return {"resourceType": "MedicationStatement", "status": status,
            "subject": {"reference": f"Patient/{patient_id}"}, "medicationCodeableConcept": {"text": text}}
