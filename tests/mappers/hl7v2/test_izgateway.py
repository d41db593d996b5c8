"""IZGateway's FHIRPath assertions (their v2-to-FHIR test file), run with fhirpathpy on
what our mapper makes of the same segments; and their VXU and PIX/PDQ ADT messages."""

from __future__ import annotations

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

from mappers.hl7v2 import MappingConfig, parse, to_bundle

from .helpers import SHARED, one, resources
from .izgateway import read

SAMPLES = read(SHARED / "izgateway-v2tofhir" / "messages.txt")
# IZGateway writes a bare assigning authority as the identifier system, and is a US feed (race and
# ethnicity as US Core extensions): a site says both in its configuration.
CONFIG = MappingConfig.from_dict({"identifier_systems": {"MYEHR": "MYEHR"}, "realm": "US"})


def patient_assertions():
    for sample in SAMPLES:
        for a in sample.assertions:
            if a.expression.startswith("Patient") and a.segment.startswith("PID"):
                yield pytest.param(sample, a, id=f"line{a.line}")


def patient_of(sample, pid: str) -> dict:
    """The Patient our mapper makes of one PID, carried by an ADT^A28 with the sample's MSH."""
    msh = sample.segments[0].split("|")
    msh[8] = "ADT^A28^ADT_A05"
    return one(to_bundle(parse("|".join(msh) + "\r" + pid + "\r"), CONFIG), "Patient")


@pytest.mark.parametrize("sample, assertion", list(patient_assertions()))
def test_patient_assertion(sample, assertion):
    patient = patient_of(sample, assertion.segment)
    result = evaluate(patient, assertion.expression, {}, models["r4"])  # the model resolves value[x]
    assert result == [True], f"line {assertion.line}: {assertion.expression} -> {result}"


def test_there_are_patient_assertions_to_run():
    assert len(list(patient_assertions())) >= 25


def test_their_vxu_maps_three_immunizations():
    vxu = next(s for s in SAMPLES if "VXU^V04" in s.segments[0])
    bundle = to_bundle(parse("\r".join(vxu.segments) + "\r"), CONFIG)
    immunizations = resources(bundle, "Immunization")
    assert [i["vaccineCode"]["coding"][0]["code"] for i in immunizations] == ["85", "110", "48"]
    assert [i["primarySource"] for i in immunizations] == [False, True, True]  # RXA-9 01: historical
    assert immunizations[0]["reportOrigin"]["coding"][0]["code"] == "01"
    assert "doseQuantity" not in immunizations[0]  # 999: amount unknown
    assert immunizations[1]["lotNumber"] == "xy3939" and immunizations[1]["expirationDate"] == "2014-12-12"
    assert immunizations[1]["route"]["coding"][0]["code"] == "C28161"
    assert immunizations[1]["site"]["coding"][0]["code"] == "RT"
    assert immunizations[1]["manufacturer"]["display"] == "GlaxoSmithKline"
    assert immunizations[1]["identifier"][0]["value"] == "65930"  # ORC-3 filler order number
    observations = resources(bundle, "Observation")
    assert len(observations) == 6
    immunization_urls = [e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Immunization"]
    # each OBX is filed under the RXA it follows; the historical record (first RXA) has none
    assert [o["partOf"][0]["reference"] for o in observations] == [immunization_urls[1]] * 3 + [immunization_urls[2]] * 3


def test_their_pix_feed_adts_map():
    adts = [s for s in SAMPLES if "|ADT^" in s.segments[0]]
    assert len(adts) == 6
    for sample in adts:
        bundle = to_bundle(parse("\r".join(sample.segments) + "\r"))
        patient = one(bundle, "Patient")
        assert patient["identifier"][0]["system"].startswith("urn:oid:1.3.6.1.4.1.21367.2009.1.2.")
