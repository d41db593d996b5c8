"""MappingConfig: a site's authorities, source names, time zone and Z-segments, from JSON."""

from __future__ import annotations

import json

import pytest

from mappers.hl7v2 import MappingConfig, MappingError, parse, to_bundle

from .helpers import one, sample


def test_defaults_know_the_french_national_identifiers():
    config = MappingConfig()
    assert config.identifier_system("INS-NIR") == "urn:oid:1.2.250.1.213.1.4.8"
    assert config.identifier_system("", "1.2.250.1.213.1.4.8", "ISO") == "urn:oid:1.2.250.1.213.1.4.8"


def test_load_from_a_json_file(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({
        "identifier_systems": {"CHU-LYON": "urn:oid:1.2.250.1.999.1"},
        "source_systems": {"HIS": "https://chu.example/fhir/source/his"},
        "timezone": "Europe/Paris",
        "z_segments": {"ZPI": [{"field": 2, "resource": "Patient", "url": "https://chu.example/ext/vip",
                                "type": "boolean"},
                               {"field": 3, "resource": "Encounter", "url": "https://chu.example/ext/unit",
                                "type": "CodeableConcept"}]},
    }), encoding="utf-8")
    config = MappingConfig.load(path)
    raw = sample("adt_a01.hl7").replace(b"\rPV1|", b"\rZPI|1|Y|REA^R\xc3\xa9animation^L\rPV1|")
    bundle = to_bundle(parse(raw), config)
    patient = one(bundle, "Patient")
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.250.1.999.1"
    assert {"url": "https://chu.example/ext/vip", "valueBoolean": True} in patient["extension"]
    encounter = one(bundle, "Encounter")
    assert encounter["extension"][0]["valueCodeableConcept"]["text"] == "Réanimation"
    assert encounter["period"]["start"] == "2024-03-01T10:00:00+01:00"  # read in Europe/Paris
    assert patient["meta"]["source"] == "https://chu.example/fhir/source/his#MSG0001"
    prov = one(bundle, "Provenance")
    assert prov["entity"][0]["what"]["identifier"] == {"system": "https://chu.example/fhir/source/his",
                                                       "value": "MSG0001"}


def test_a_z_field_that_does_not_fit_its_type_names_its_place():
    config = MappingConfig.from_dict({"z_segments": {"ZPI": [
        {"field": 2, "resource": "Patient", "url": "https://chu.example/ext/vip", "type": "boolean"}]}})
    raw = sample("adt_a01.hl7").replace(b"\rPV1|", b"\rZPI|1|MAYBE\rPV1|")
    with pytest.raises(MappingError) as err:
        to_bundle(parse(raw), config)
    assert (err.value.segment, err.value.field, err.value.code) == ("ZPI", 2, "102")


@pytest.mark.parametrize("bad", [
    {"z_segments": {"PID": [{"field": 2, "resource": "Patient", "url": "u"}]}},
    {"z_segments": {"ZPI": [{"field": 2, "resource": "Basic", "url": "u"}]}},
    {"z_segments": {"ZPI": [{"resource": "Patient", "url": "u"}]}},
])
def test_bad_z_segment_configuration(bad):
    with pytest.raises(MappingError):
        MappingConfig.from_dict(bad)


def test_setting_empty_means_defaults(tmp_path):
    assert MappingConfig.from_setting("") == MappingConfig()
    (tmp_path / "m.json").write_text('{"timezone": "Europe/Paris"}', encoding="utf-8")
    assert MappingConfig.from_setting(str(tmp_path / "m.json")).timezone == "Europe/Paris"


def test_unreadable_file(tmp_path):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(MappingError) as err:
        MappingConfig.load(tmp_path / "bad.json")
    assert "bad.json" in err.value.text


def test_unknown_time_zone_is_refused_at_load():
    with pytest.raises(MappingError) as err:
        MappingConfig.from_dict({"timezone": "Mars/Olympus"})
    assert "Mars/Olympus" in err.value.text
