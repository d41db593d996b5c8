"""Segments the message samples do not carry: IAM, IN2, AIG, RXO, MO values; the inventory;
hl7apy validation."""

from __future__ import annotations

from pathlib import Path

from mappers.hl7v2 import parse, supported, to_bundle, validate

from .helpers import one, resources, sample

DOC = Path(__file__).resolve().parents[3] / "docs" / "hl7v2-mapping.md"


def with_segments(name: str, *extra: str, before: bytes = b"PV1|") -> bytes:
    raw = sample(name)
    at = raw.index(b"\r" + before) + 1
    return raw[:at] + "".join(f"{s}\r" for s in extra).encode() + raw[at:]


def test_iam_allergy_known_by_its_identifier_and_deleted_by_action_code():
    raw = with_segments("adt_a08.hl7", "IAM|1|FA^Food allergy^HL70127|227493005^Cashew nuts^SCT|MO|Rash|A|"
                        "ALG-77^HIS||||20230101")
    allergy = one(to_bundle(parse(raw)), "AllergyIntolerance")
    assert allergy["identifier"] == [{"system": "urn:passerelle:v2:authority:HIS", "value": "ALG-77"}]
    assert allergy["category"] == ["food"] and allergy["onsetDateTime"] == "2023-01-01"
    deleted = one(to_bundle(parse(raw.replace(b"|Rash|A|", b"|Rash|D|"))), "AllergyIntolerance")
    assert deleted["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in deleted


def test_in2_gives_the_subscriber_id_when_in1_has_none():
    raw = with_segments("adt_a08.hl7", "IN1|1|BASE|CPAM75|CPAM PARIS", "IN2|2840575123456")
    raw = raw.replace(b"IN1|", b"\rIN1|", 0)
    coverage = one(to_bundle(parse(raw.replace(b"\rPV1|", b"\rPV1|"))), "Coverage")
    assert coverage["subscriberId"] == "2840575123456"
    assert coverage["payor"][0] == {"display": "CPAM PARIS", "identifier": {"value": "CPAM75"}}


def test_aig_resource_is_a_participant():
    raw = sample("siu_s12.hl7").replace(b"AIP|", b"AIG|1||ECHO-2^Echographe salle 2|EQUIP^Equipment\rAIP|")
    appt = one(to_bundle(parse(raw)), "Appointment")
    assert {"actor": {"display": "Echographe salle 2"}, "status": "accepted",
            "type": [{"coding": [{"code": "EQUIP", "display": "Equipment"}], "text": "Equipment"}]} in appt["participant"]


def test_pharmacy_orm_with_rxo():
    raw = (b"MSH|^~\\&|HIS|CHU|PH|CHU|20240302090000||ORM^O01^ORM_O01|RXO1|P|2.4\r"
           b"PID|1||123456^^^CHU-LYON^PI||DURAND^Helene\r"
           b"ORC|NW|RX-9^HIS\rRXO|860975^Metformin 500 MG^RXNORM|500||mg^^UCUM|||Au repas||||60|TAB|3\r"
           b"RXR|PO^Oral^HL70162\r")
    med = one(to_bundle(parse(raw)), "MedicationRequest")
    assert med["medicationCodeableConcept"]["coding"][0]["code"] == "860975"
    assert med["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 500
    assert med["dosageInstruction"][0]["text"] == "Au repas"
    assert med["dispenseRequest"]["numberOfRepeatsAllowed"] == 3


def test_money_value():
    head = b"\r".join(s for s in sample("oru_r01.hl7").split(b"\r") if not s.startswith((b"OBX", b"NTE", b"SPM")))
    bundle = to_bundle(parse(head + b"OBX|1|MO|X^Cost^L||12.50^EUR||||||F\r"))
    assert one(bundle, "Observation")["valueQuantity"] == {"value": __import__("decimal").Decimal("12.50"),
                                                           "unit": "EUR", "system": "urn:iso:std:iso:4217",
                                                           "code": "EUR"}


def test_encounter_without_visit_number_is_created_once_per_message():
    raw = sample("adt_a01.hl7").replace(b"V0001^^^CHU-LYON^VN", b"")
    bundle = to_bundle(parse(raw))
    entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert entry["request"] == {"method": "POST", "url": "Encounter"}
    assert resources(bundle, "Condition")[0]["encounter"]["reference"] == entry["fullUrl"]


def test_inventory_is_documented():
    """Every mapped message type appears in docs/hl7v2-mapping.md, and nothing more."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("| message | what it writes |")[1].split("\n\n")[0]
    documented = set()
    for row in table.splitlines()[2:]:
        cell = row.split("|")[1]
        words = cell.replace(",", " ").split()
        code = None
        for word in words:
            if "^" in word:
                code, event = word.split("^")
                documented.add(f"{code}^{event}")
            elif word.isupper() and len(word) == 3 and not word[1:].isdigit():
                code = word
            elif code and word[:1] in "ASTOPRV" and word[1:].isdigit():
                documented.add(f"{code}^{word}")
    assert documented == set(supported())


def test_validate_with_hl7apy():
    oru = validate(parse(sample("oru_r01.hl7")))
    assert oru and not [line for line in oru if line.startswith("Error: ")]  # warnings: v2.5.1 tables
    assert "Warning: Value NR not in table HL70125 in element OBX.OBX_2" in oru
    issues = validate(parse(sample("siu_s12.hl7")))
    assert "Error: Missing required child SCH.SCH_6" in issues  # SCH-6 event reason is required in 2.5
