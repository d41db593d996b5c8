"""The data type units: DTM, CWE, CX/EI, XPN/XCN, XAD/XTN, and the vocabulary they use."""

from __future__ import annotations

import pytest

from mappers.hl7v2 import MappingConfig, parse
from mappers.hl7v2.datatypes import codes, contact, ids, names, time
from terminology.v2 import coding_system, known, names as map_names, translate, v2_system


def field(value: str, n: int = 3):
    """Field n of a ZZZ segment holding ``value``, as the Rep the units take."""
    m = parse("MSH|^~\\&|A|F|||20240301||ADT^A01|C1|P|2.5\rZZZ|1|" + "|" * (n - 2) + value + "\r")
    return m.segment("ZZZ").rep(n)


@pytest.mark.parametrize("v2, fhir", [
    ("2024", "2024"), ("202403", "2024-03"), ("20240301", "2024-03-01"),
    ("2024030110", "2024-03-01T10:00:00+00:00"), ("202403011015", "2024-03-01T10:15:00+00:00"),
    ("20240301101530.25", "2024-03-01T10:15:30.25+00:00"), ("20240301101530-0500", "2024-03-01T10:15:30-05:00"),
])
def test_date_time(v2, fhir):
    assert time.date_time(v2) == fhir


def test_date_time_without_offset_takes_the_site_time_zone():
    assert time.date_time("20240115093000", "Europe/Paris") == "2024-01-15T09:30:00+01:00"
    assert time.date_time("20240715093000", "Europe/Paris") == "2024-07-15T09:30:00+02:00"  # summer time
    assert time.instant("20240715", "Europe/Paris") == "2024-07-15T00:00:00+02:00"


@pytest.mark.parametrize("bad", ["2024-03-01", "20241301", "20240230", "196203520", "2024030125", "abc"])
def test_bad_dates_are_refused(bad):
    with pytest.raises(ValueError):
        time.date_time(bad)


def test_date_keeps_the_precision_written():
    assert time.date("19840512") == "1984-05-12" and time.date("1984") == "1984" and time.date("") is None


def test_codeable_concept_through_an_ig_concept_map():
    concept = codes.codeable(field("M^Married^HL70002"), "MaritalStatus", "0002")
    assert concept["coding"][0] == {"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                                    "code": "M", "display": "Married"}
    assert concept["coding"][1]["system"] == "http://terminology.hl7.org/CodeSystem/v2-0002"
    assert concept["text"] == "Married"


def test_codeable_concept_with_alternate_coding_and_original_text():
    concept = codes.codeable(field("2093-3^Cholesterol^LN^CHOL^Cholestérol total^99LAB^^^Chol. tot."))
    assert concept["coding"] == [{"system": "http://loinc.org", "code": "2093-3", "display": "Cholesterol"},
                                 {"code": "CHOL", "display": "Cholestérol total"}]  # local system: no URI
    assert concept["text"] == "Chol. tot."


def test_code_through_a_map_or_none():
    assert codes.code("F", "AdministrativeSex") == "female"
    assert codes.code("ZZ", "AdministrativeSex") is None


def test_identifier_systems():
    config = MappingConfig()
    ins = ids.identifier(field("1840575123456^^^INS-NIR^INS"), config)
    assert ins["system"] == "urn:oid:1.2.250.1.213.1.4.8" and ins["value"] == "1840575123456"
    oid = ids.identifier(field("42^^^HOSP&1.2.250.1.71.1&ISO^MR"), config)
    assert oid["system"] == "urn:oid:1.2.250.1.71.1"
    assert oid["type"]["coding"][0]["code"] == "MR"
    uri = ids.identifier(field("42^^^&https://id.example/mrn&URI"), config)
    assert uri["system"] == "https://id.example/mrn"
    local = ids.identifier(field("42^^^SAINT LUC"), config)
    assert local["system"] == "urn:passerelle:v2:authority:SAINT%20LUC"  # a URI: the name percent-encoded
    assert ids.identifier(field("^^^HOSP"), config) is None


def test_configured_authority_wins():
    config = MappingConfig.from_dict({"identifier_systems": {"HOSP": "https://hospital.example/ipp"}})
    assert ids.identifier(field("42^^^HOSP&1.2.3&ISO"), config)["system"] == "https://hospital.example/ipp"


def test_human_name_and_practitioner_name():
    name = names.human_name(field("DURAND&Van&Durand^Hélène^Marie^Jr^Mme^^L"))
    assert name == {"use": "official", "family": "DURAND", "given": ["Hélène", "Marie"], "prefix": ["Mme"],
                    "suffix": ["Jr"]}
    xcn = names.human_name(field("12345^MARTIN^Jean^^^Dr"), offset=1)
    assert xcn == {"family": "MARTIN", "given": ["Jean"], "prefix": ["Dr"]}
    assert names.display(xcn) == "Dr Jean MARTIN"


def test_address_and_telecom():
    assert contact.address(field("12 rue de la Paix^Bât. B^Lyon^^69002^FRA^H")) == {
        "use": "home", "line": ["12 rue de la Paix", "Bât. B"], "city": "Lyon", "postalCode": "69002",
        "country": "FRA"}
    assert contact.telecom(field("^NET^Internet^h.durand@example.org")) == {
        "system": "email", "value": "h.durand@example.org"}
    assert contact.telecom(field("^PRN^CP^^33^6^01020304"), "home") == {
        "system": "phone", "value": "+33 (6) 01020304", "use": "mobile"}
    assert contact.telecom(field("(206)3345232"), "work") == {"system": "phone", "value": "(206)3345232",
                                                              "use": "work"}


def test_vocabulary_maps_are_the_igs():
    assert len(map_names()) == 99
    assert translate("PatientClass[EncounterClass]", "E").code == "EMER"
    assert translate("Event[EncounterStatus]", "A03").code == "finished"
    assert known("InterpretationCodes", "AC") and translate("InterpretationCodes", "AC") is None
    assert coding_system("LN") == "http://loinc.org" and coding_system("HL70203") == v2_system("0203")
    assert coding_system("99LOCAL") is None
