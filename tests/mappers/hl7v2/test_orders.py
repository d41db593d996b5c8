"""ORM^O01, OML^O21 (lab orders) and RDE^O11 (pharmacy) -> ServiceRequest, MedicationRequest."""

from __future__ import annotations

import pytest

from mappers.hl7v2 import ParseError, parse, split_batch, to_bundle

from .helpers import SHARED, bundle_of, one, resources, sample


def test_new_lab_order():
    bundle = bundle_of("orm_o01.hl7")
    request = one(bundle, "ServiceRequest")
    assert request["status"] == "active" and request["intent"] == "order"
    assert request["identifier"][0]["value"] == "ORD-1001"
    assert request["identifier"][0]["type"]["coding"][0]["code"] == "PLAC"
    assert request["code"]["coding"][0]["code"] == "24331-1"
    assert request["requester"]["display"] == "Dr Jean MARTIN"
    assert request["occurrenceDateTime"] == "2024-03-02T07:30:00+00:00"
    entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest")
    assert entry["request"] == {"method": "PUT", "url": "ServiceRequest?identifier=urn:passerelle:v2:authority:HIS|ORD-1001"}


@pytest.mark.parametrize("control, status", [("OC", "revoked"), ("CR", "revoked"), ("DC", "revoked"),
                                             ("HD", "active"), ("CA", "active")])
def test_order_control_sets_the_status(control, status):
    """The IG's OrderControlCode map: OC/CR/DC end the order; CA is only a request to cancel."""
    raw = sample("orm_o01.hl7").replace(b"ORC|NW|", f"ORC|{control}|".encode())
    assert one(to_bundle(parse(raw)), "ServiceRequest")["status"] == status


def test_order_without_obr():
    raw = b"\r".join(s for s in sample("orm_o01.hl7").split(b"\r") if not s.startswith(b"OBR"))
    request = one(to_bundle(parse(raw)), "ServiceRequest")
    assert request["identifier"][0]["value"] == "ORD-1001" and request["code"] == {"text": "unspecified order"}


def test_pharmacy_order():
    med = one(bundle_of("rde_o11.hl7"), "MedicationRequest")
    assert med["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1191", "display": "Aspirin"}
    dosage = med["dosageInstruction"][0]
    assert dosage["text"] == "1 comprimé le matin"
    assert dosage["doseAndRate"][0]["doseQuantity"] == {"value": 75, "unit": "mg", "system": "http://unitsofmeasure.org",
                                                        "code": "mg"}
    assert dosage["route"]["coding"][0]["code"] == "PO"
    assert med["dispenseRequest"] == {"quantity": {"value": 30, "unit": "Tablet"}, "numberOfRepeatsAllowed": 2}
    assert med["authoredOn"] == "2024-03-02T08:55:00+00:00"
    assert med["identifier"][0]["value"] == "RX-3001"


def test_cdc_order_samples_map():
    mapped = 0
    for path in sorted((SHARED / "cdc-trusted-intermediary").rglob("*")):
        if path.suffix != ".hl7" or not ("ORM" in path.name or "OML" in path.name):
            continue
        try:
            messages = split_batch(path.read_bytes())
        except ParseError:
            continue
        for raw in messages:
            try:
                bundle = to_bundle(parse(raw))
            except ParseError as exc:
                assert exc.segment and exc.code in ("100", "101", "102")
                continue
            assert resources(bundle, "ServiceRequest")
            mapped += 1
    assert mapped >= 40
