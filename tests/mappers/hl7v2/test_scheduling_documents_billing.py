"""SIU (appointments), MDM (documents), DFT (charges)."""

from __future__ import annotations

import base64

import pytest

from mappers.hl7v2 import MappingError, parse, to_bundle

from .helpers import bundle_of, one, sample


def test_booked_appointment():
    appt = one(bundle_of("siu_s12.hl7"), "Appointment")
    assert appt["status"] == "booked"
    assert appt["identifier"][0] == {"system": "urn:passerelle:v2:authority:AGENDA", "value": "APT-F-1"}
    assert (appt["start"], appt["end"], appt["minutesDuration"]) == (
        "2024-04-10T14:00:00+00:00", "2024-04-10T14:30:00+00:00", 30)
    assert appt["appointmentType"]["coding"][0]["code"] == "ROUTINE"
    assert appt["serviceType"][0]["coding"][0]["code"] == "CARDIO-FU"
    assert appt["comment"] == "Apporter les résultats"
    actors = [p["actor"].get("display") for p in appt["participant"]]
    assert "Dr Jean MARTIN" in actors and "Box 3" not in actors
    assert len(appt["participant"]) == 3  # patient, location, practitioner


@pytest.mark.parametrize("event, status", [("S13", "booked"), ("S14", "booked")])
def test_reschedule_and_modify_update_the_appointment(event, status):
    raw = sample("siu_s12.hl7").replace(b"SIU^S12^SIU_S12", f"SIU^{event}^SIU_S12".encode())
    bundle = to_bundle(parse(raw))
    entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Appointment")
    assert entry["request"]["method"] == "PUT" and entry["resource"]["status"] == status


@pytest.mark.parametrize("event, status", [("S15", "cancelled"), ("S26", "noshow")])
def test_cancel_and_no_show_patch_the_status(event, status):
    raw = sample("siu_s15.hl7").replace(b"SIU^S15^SIU_S12", f"SIU^{event}^SIU_S12".encode())
    entry = next(e for e in to_bundle(parse(raw))["entry"] if e["request"]["method"] == "PATCH")
    assert entry["request"]["url"] == "Appointment?identifier=urn:passerelle:v2:authority:AGENDA|APT-F-1"
    assert entry["resource"]["parameter"][0]["part"][2] == {"name": "value", "valueCode": status}


def test_appointment_without_id():
    raw = sample("siu_s12.hl7").replace(b"SCH|APT-1^AGENDA|APT-F-1^AGENDA|", b"SCH|||")
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.code) == ("SCH", "101")


def test_document_with_its_text_as_an_attachment():
    bundle = bundle_of("mdm_t02.hl7")
    doc = one(bundle, "DocumentReference")
    assert doc["masterIdentifier"] == {"system": "urn:passerelle:v2:authority:DOCS", "value": "DOC-9001"}
    assert doc["status"] == "current" and doc["docStatus"] == "final"
    assert doc["type"]["coding"][0] == {"system": "http://terminology.hl7.org/CodeSystem/v2-0270", "code": "DS",
                                        "display": "Discharge summary"}
    attachment = doc["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8"
    assert base64.b64decode(attachment["data"]).decode() == (
        "Patiente hospitalisée pour infarctus.\nAllergie à la pénicilline ; traitement par aspirine 75 mg.")
    assert doc["author"][0]["display"] == "Dr Jean MARTIN"
    assert doc["date"] == "2024-03-05T16:50:00+00:00"
    assert doc["context"]["encounter"][0]["reference"].startswith("urn:uuid:")


def test_addendum_appends_to_its_parent():
    raw = sample("mdm_t02.hl7").replace(b"MDM^T02^MDM_T02", b"MDM^T06^MDM_T02").replace(
        b"|DOC-9001^DOCS|", b"|DOC-9002^DOCS|DOC-9001^DOCS")
    doc = one(to_bundle(parse(raw)), "DocumentReference")
    assert doc["relatesTo"] == [{"code": "appends", "target": {
        "reference": "DocumentReference?identifier=urn:passerelle:v2:authority:DOCS|DOC-9001"}}]


def test_document_without_text():
    raw = b"\r".join(s for s in sample("mdm_t02.hl7").split(b"\r") if not s.startswith(b"OBX"))
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.code) == ("OBX", "101")


def test_document_cancel_patches_the_status():
    raw = sample("mdm_t02.hl7").replace(b"MDM^T02^MDM_T02", b"MDM^T11^MDM_T01")
    entry = next(e for e in to_bundle(parse(raw))["entry"] if e["request"]["method"] == "PATCH")
    assert entry["request"]["url"].startswith("DocumentReference?identifier=")
    assert entry["resource"]["parameter"][0]["part"][2] == {"name": "value", "valueCode": "entered-in-error"}


def test_charge():
    charge = one(bundle_of("dft_p03.hl7"), "ChargeItem")
    assert charge["status"] == "billable"
    assert charge["code"]["coding"][0] == {"system": "urn:oid:1.2.250.1.213.2.5", "code": "YYYY001",
                                           "display": "Coronarographie"}
    assert charge["quantity"] == {"value": 1}
    assert str(charge["priceOverride"]["value"]) == "350.00" and charge["priceOverride"]["currency"] == "EUR"
    assert charge["occurrenceDateTime"] == "2024-03-01"
    assert charge["identifier"][0]["value"] == "TX-7001"


def test_billing_without_ft1():
    raw = b"\r".join(s for s in sample("dft_p03.hl7").split(b"\r") if not s.startswith(b"FT1"))
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw))
    assert (err.value.segment, err.value.code) == ("FT1", "100")
