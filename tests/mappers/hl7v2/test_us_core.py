"""PID-10 race and PID-22 ethnic group as the US Core extensions, when the realm is US."""

from __future__ import annotations

import pytest

from mappers.hl7v2 import MappingConfig, MappingError, parse, to_bundle

from .helpers import one

US = MappingConfig.from_dict({"realm": "US"})
RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
CDCREC = "urn:oid:2.16.840.1.113883.6.238"


def patient(race: str, ethnic: str = "", config: MappingConfig = US) -> dict:
    pid = ["PID", "1", "", "42^^^HOSP^MR", "", "Doe^Jane", "", "19800101", "F", "", race] + [""] * 11 + [ethnic]
    raw = ("MSH|^~\\&|APP|FAC|GW|GW|20260101120000||ADT^A28^ADT_A05|M1|P|2.5.1\r" + "|".join(pid) + "\r").encode()
    return one(to_bundle(parse(raw), config), "Patient")


def extension(resource: dict, url: str) -> list[dict] | None:
    found = [e for e in resource.get("extension", []) if e["url"] == url]
    return found[0]["extension"] if found else None


def test_cdc_codes_from_table_0005_are_omb_categories_with_the_text_sent():
    parts = extension(patient("2106-3^White^CDCREC~2028-9^Asian^HL70005"), RACE)
    assert parts == [
        {"url": "ombCategory", "valueCoding": {"system": CDCREC, "code": "2106-3", "display": "White"}},
        {"url": "ombCategory", "valueCoding": {"system": CDCREC, "code": "2028-9", "display": "Asian"}},
        {"url": "text", "valueString": "White, Asian"},
    ]


def test_a_finer_cdc_code_is_detailed_and_other_race_too():
    parts = extension(patient("2034-7^Chinese^CDCREC~2131-1^Other Race^CDCREC"), RACE)
    assert [p["url"] for p in parts] == ["detailed", "detailed", "text"]
    assert parts[0]["valueCoding"] == {"system": CDCREC, "code": "2034-7", "display": "Chinese"}
    assert parts[1]["valueCoding"]["code"] == "2131-1"


def test_legacy_letters_and_texts_are_translated():
    assert extension(patient("W"), RACE)[0]["valueCoding"]["code"] == "2106-3"
    assert extension(patient("B^Black^L"), RACE)[0]["valueCoding"]["code"] == "2054-5"
    assert extension(patient("H"), RACE) == [{"url": "text", "valueString": "H"}]  # not a race: kept as text only
    parts = extension(patient("", "N^Not Hispanic^HL70189"), ETHNICITY)
    assert parts[0]["valueCoding"] == {"system": CDCREC, "code": "2186-5", "display": "Not Hispanic or Latino"}
    assert parts[1] == {"url": "text", "valueString": "Not Hispanic"}


def test_unknown_is_a_null_flavor():
    parts = extension(patient("U", "U"), RACE)
    assert parts[0]["valueCoding"]["system"] == "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
    assert parts[0]["valueCoding"]["code"] == "UNK"
    assert extension(patient("U", "U"), ETHNICITY)[0]["valueCoding"]["code"] == "UNK"


def test_original_text_wins():
    parts = extension(patient("2028-9^Asian^CDCREC^^^^^^Vietnamese"), RACE)
    assert parts[-1] == {"url": "text", "valueString": "Vietnamese"}


def test_outside_the_us_realm_nothing_is_added():
    assert extension(patient("2106-3^White^CDCREC", "H", MappingConfig()), RACE) is None
    assert extension(patient("2106-3^White^CDCREC", "H", MappingConfig()), ETHNICITY) is None
    assert extension(patient("", ""), RACE) is None  # nothing sent, nothing added


def test_an_unknown_realm_is_refused():
    with pytest.raises(MappingError, match="realm 'FR'"):
        MappingConfig.from_dict({"realm": "FR"})
