"""ORU^R01: reports, every OBX value type, specimens, notes; and the CDC lab samples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mappers.hl7v2 import MappingError, ParseError, parse, split_batch, to_bundle

from .helpers import SHARED, bundle_of, entry_for, one, resources, sample


def by_code(bundle: dict) -> dict[str, dict]:
    return {o["code"]["coding"][0]["code"]: o for o in resources(bundle, "Observation")}


def test_report_and_its_order():
    bundle = bundle_of("oru_r01.hl7")
    report = one(bundle, "DiagnosticReport")
    assert report["status"] == "final"
    assert report["identifier"] == [{"system": "urn:passerelle:v2:authority:LAB", "value": "LAB-2001"}]
    assert report["code"]["coding"][0] == {"system": "http://loinc.org", "code": "24331-1", "display": "Lipid panel"}
    assert report["effectiveDateTime"] == "2024-03-02T07:30:00+00:00"
    assert report["issued"] == "2024-03-02T08:25:00+00:00"
    assert report["conclusion"] == "Prélèvement à jeun"  # the NTE after OBR
    assert len(report["result"]) == 8  # OBX 1-8; the ED (OBX 9) is a document
    for ref in report["result"]:
        assert entry_for(bundle, ref["reference"])["resource"]["resourceType"] == "Observation"
    request = entry_for(bundle, report["basedOn"][0]["reference"])
    assert request["request"]["method"] == "POST"  # a result names its order, it does not rewrite it
    assert request["resource"]["identifier"][0]["value"] == "ORD-1001"
    specimen = entry_for(bundle, report["specimen"][0]["reference"])["resource"]
    assert specimen["identifier"][0]["value"] == "SP-1"
    assert specimen["collection"]["collectedDateTime"] == "2024-03-02T07:30:00+00:00"


def test_value_types():
    obs = by_code(bundle_of("oru_r01.hl7"))
    chol = obs["2093-3"]
    assert chol["valueQuantity"] == {"value": Decimal("5.2"), "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                                     "code": "mmol/L"}
    assert chol["referenceRange"][0]["low"]["value"] == Decimal("3.5") and chol["referenceRange"][0]["text"] == "3.5-5.0"
    assert chol["interpretation"][0]["coding"][0]["code"] == "H"
    assert chol["status"] == "final" and chol["category"][0]["coding"][0]["code"] == "laboratory"
    assert obs["2571-8"]["valueQuantity"]["comparator"] == "<"  # SN <^0.5
    assert obs["8251-1"]["valueString"] == "Échantillon légèrement hémolysé"  # ST
    assert obs["8251-1"]["note"] == [{"text": "Contrôle recommandé"}]
    assert obs["882-1"]["valueCodeableConcept"]["coding"][0]["system"] == "http://snomed.info/sct"  # CWE
    assert obs["5206-5"]["valueRatio"] == {"numerator": {"value": 1}, "denominator": {"value": 128}}  # SN ^1^:^128
    assert obs["2345-7"]["valueRange"]["high"]["value"] == Decimal("5.9")  # NR
    assert obs["21112-8"]["valueDateTime"] == "1984-05-12"  # DT
    assert obs["2222-2"]["valueTime"] == "07:30:00"  # TM


def test_encapsulated_pdf_becomes_a_document():
    doc = one(bundle_of("oru_r01.hl7"), "DocumentReference")
    assert doc["content"][0]["attachment"] == {"contentType": "application/pdf", "data": "JVBERi0xLjQK",
                                               "title": "Laboratory report"}


def obx_bundle(*obx: str) -> dict:
    head = b"\r".join(s for s in sample("oru_r01.hl7").split(b"\r") if not s.startswith((b"OBX", b"NTE", b"SPM")))
    return to_bundle(parse(head + "".join(f"{o}\r" for o in obx).encode()))


def test_repeating_values_become_components():
    obs = one(obx_bundle("OBX|1|NM|8480-6^BP^LN||120~80|mm[Hg]^^UCUM|||||F"), "Observation")
    assert [c["valueQuantity"]["value"] for c in obs["component"]] == [120, 80]


def test_text_repetitions_are_lines_and_ft_escapes_read():
    obs = one(obx_bundle("OBX|1|FT|11526-1^Path^LN||Ligne 1\\.br\\Ligne 2~Ligne 3||||||F"), "Observation")
    assert obs["valueString"] == "Ligne 1\nLigne 2\nLigne 3"


@pytest.mark.parametrize("obx, key, value", [
    ("OBX|1|CE|X^Y^LN||POS^Positive^HL70078||||||F", "valueCodeableConcept", "POS"),
    ("OBX|1|TS|X^Y^LN||20240302101500||||||F", "valueDateTime", "2024-03-02T10:15:00+00:00"),
    ("OBX|1|SI|X^Y^LN||3||||||F", "valueInteger", 3),
    ("OBX|1|XPN|X^Y^LN||DOE^JOHN||||||F", "valueString", "DOE^JOHN"),
    ("OBX|1|SN|X^Y^LN||>=^10|g/L^^UCUM|||||F", "valueQuantity", ">="),
    ("OBX|1|SN|X^Y^LN||^10^-^20|g/L^^UCUM|||||F", "valueRange", 20),
])
def test_more_value_types(obx, key, value):
    obs = one(obx_bundle(obx), "Observation")
    got = obs[key]
    if key == "valueCodeableConcept":
        got = got["coding"][0]["code"]
    elif key == "valueQuantity":
        got = got["comparator"]
    elif key == "valueRange":
        got = got["high"]["value"]
    assert got == value


def test_not_performed_has_a_data_absent_reason():
    obs = one(obx_bundle("OBX|1|NM|X^Y^LN||||||||X"), "Observation")
    assert obs["dataAbsentReason"]["coding"][0]["code"] == "not-performed"
    assert obs["status"] == "cancelled"


@pytest.mark.parametrize("obx, field", [("OBX|1|NM|X^Y^LN||12,5||||||F", 5), ("OBX|1|DT|X^Y^LN||2024-03-02||||||F", 5),
                                        ("OBX|1|NM|X^Y^LN||5||||||F|||202413011200", 14)])
def test_bad_values_name_their_obx(obx, field):
    with pytest.raises(MappingError) as err:
        obx_bundle("OBX|1|ST|A^B^LN||ok||||||F", obx)
    assert (err.value.segment, err.value.sequence, err.value.field, err.value.code) == ("OBX", 2, field, "102")


def test_corrected_result_updates_the_same_observation():
    first = obx_bundle("OBX|1|NM|2093-3^Chol^LN||5.2|mmol/L^^UCUM|||||F")
    fixed = obx_bundle("OBX|1|NM|2093-3^Chol^LN||5.4|mmol/L^^UCUM|||||C")
    url = lambda b: next(e["request"]["url"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation")
    assert url(first) == url(fixed)
    assert one(fixed, "Observation")["status"] == "amended" or one(fixed, "Observation")["status"] == "corrected"


def test_cdc_lab_samples_map():
    """Real-world-shaped ELR and newborn screening results (CDC trusted intermediary)."""
    mapped = refused = 0
    for path in sorted((SHARED / "cdc-trusted-intermediary").rglob("*ORU*.hl7")):
        try:
            messages = split_batch(path.read_bytes())
        except ParseError:
            continue
        for raw in messages:
            try:
                bundle = to_bundle(parse(raw))
            except ParseError as exc:  # their deliberately broken ones: a precise place, never a crash
                assert exc.segment and exc.code in ("100", "101", "102")
                refused += 1
                continue
            if parse(raw).header.message_code != "ORU":
                continue  # orders "linked to" an ORU
            assert resources(bundle, "DiagnosticReport") and resources(bundle, "Observation")
            mapped += 1
    assert mapped >= 50 and refused <= 8


def test_two_obr_of_one_filler_order_make_one_report_with_all_results():
    raw = sample("oru_r01.hl7")
    obr = next(s for s in raw.split(b"\r") if s.startswith(b"OBR"))
    raw += obr.replace(b"OBR|1|", b"OBR|2|") + b"\rOBX|1|NM|2085-9^HDL^LN||1.3|mmol/L^^UCUM|||||F\r"
    bundle = to_bundle(parse(raw))
    report = one(bundle, "DiagnosticReport")
    assert len(report["result"]) == 9
    assert {entry_for(bundle, r["reference"])["resource"]["resourceType"] for r in report["result"]} == {"Observation"}
