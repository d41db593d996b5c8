"""The US NPPES monthly NPI file (npidata_pfile) -> FHIR.

CSV with a header of about 330 columns, read by column name. Entity type 1 is an individual
(Practitioner + PractitionerRole at the practice location), 2 an organization (Organization).
Up to 15 taxonomy codes per provider, one flagged primary.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from . import systems as S
from .records import Activity, Entry, RowError, coding, compact, control_character, identifier_key, reference

TAXONOMY_SLOTS = 15
REQUIRED = ("NPI", "Entity Type Code", "Provider Organization Name (Legal Business Name)",
            "Provider Last Name (Legal Name)", "Provider First Name",
            "Provider First Line Business Practice Location Address",
            "Provider Business Practice Location Address City Name",
            "Provider Business Practice Location Address State Name",
            "Provider Business Practice Location Address Postal Code",
            "NPI Deactivation Date", "NPI Reactivation Date", "Healthcare Provider Taxonomy Code_1")
_NPI_TYPE = {"coding": [coding(S.V2_IDENTIFIER_TYPE, "NPI", "National provider identifier")]}
_GENDER = {"M": "male", "F": "female", "X": "other", "U": "unknown"}


def read_nppes(lines: Iterable[str]) -> Iterator[Activity | RowError]:
    """Yield one Activity per well-formed row and a RowError per malformed one."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        yield RowError(1, "empty file: expected the NPPES header line")
        return
    except csv.Error as exc:
        yield RowError(1, f"unreadable header: {exc}")
        return
    col_index = {name.lstrip("\ufeff").strip(): i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED if name not in col_index]
    if missing:
        yield RowError(1, f"not an NPPES header (missing columns: {', '.join(missing[:5])})")
        return
    width = len(header)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. an unterminated quote: report and go on with the next line
            yield RowError(reader.line_num, f"malformed CSV: {exc}")
            continue
        if not fields:
            continue
        if len(fields) != width:
            yield RowError(reader.line_num, f"expected {width} columns, found {len(fields)}")
            continue
        if bad := control_character(fields):
            yield RowError(reader.line_num, f"control character in column {header[bad - 1]!r}")
            continue
        try:
            yield Activity(reader.line_num, tuple(_entries(fields, col_index)))
        except ValueError as exc:
            yield RowError(reader.line_num, str(exc))


def _entries(fields: list[str], index: dict[str, int]) -> Iterator[Entry]:
    """The row's resources. Each one's source is the whole row: a row is one provider, and the
    importer skips a rewrite when a changed row leaves a resource's content as it was."""

    def col(name: str) -> str:
        i = index.get(name)
        return fields[i].strip() if i is not None else ""

    npi = col("NPI")
    if len(npi) != 10 or not npi.isdigit():
        raise ValueError(f"NPI {npi!r} is not 10 digits")
    kind = col("Entity Type Code")
    active = not _deactivated(col)
    row = tuple(fields)
    location_key = f"Location|nppes|{npi}"
    if kind == "1":
        practitioner_key = identifier_key("Practitioner", S.NPI, npi)
        yield Entry(practitioner_key, "Practitioner", row, lambda: _practitioner(col, npi, active))
        yield Entry(location_key, "Location", row, lambda: _location(col, managing=None))
        yield Entry(f"PractitionerRole|nppes|{npi}", "PractitionerRole", row, lambda: compact({
            "resourceType": "PractitionerRole",
            "active": active,
            "practitioner": reference(practitioner_key),
            "location": [reference(location_key)],
            "specialty": [{"coding": [coding(S.NUCC_TAXONOMY, code)]} for code in _taxonomies(col)],
            "telecom": _telecom(col),
        }))
    elif kind == "2":
        organization_key = identifier_key("Organization", S.NPI, npi)
        yield Entry(organization_key, "Organization", row, lambda: _organization(col, npi, active))
        yield Entry(location_key, "Location", row, lambda: _location(col, managing=organization_key))
    else:
        raise ValueError(f"unknown Entity Type Code {kind!r} (1 individual, 2 organization)")


def _organization(col, npi: str, active: bool) -> dict:
    return compact({
        "resourceType": "Organization",
        "identifier": [{"use": "official", "type": _NPI_TYPE, "system": S.NPI, "value": npi}],
        "active": active,
        "type": [{"coding": [coding(S.NUCC_TAXONOMY, code)]} for code in _taxonomies(col)],
        "name": col("Provider Organization Name (Legal Business Name)"),
        "alias": [col("Provider Other Organization Name")],
        "telecom": _telecom(col),
        "address": [_address(col)],
    })


def _practitioner(col, npi: str, active: bool) -> dict:
    credential = col("Provider Credential Text")
    return compact({
        "resourceType": "Practitioner",
        "identifier": [{"use": "official", "type": _NPI_TYPE, "system": S.NPI, "value": npi}],
        "active": active,
        "name": [{
            "use": "official",
            "family": col("Provider Last Name (Legal Name)"),
            "given": [col("Provider First Name"), col("Provider Middle Name")],
            "prefix": [col("Provider Name Prefix Text")],
            "suffix": [col("Provider Name Suffix Text")],
        }],
        "gender": _GENDER.get(col("Provider Sex Code") or col("Provider Gender Code"), ""),
        "qualification": [{"code": {"text": credential}}] if credential else [],
    })


def _location(col, managing: str | None) -> dict:
    return compact({
        "resourceType": "Location",
        "status": "active",
        "name": col("Provider Organization Name (Legal Business Name)")
        or " ".join(p for p in (col("Provider First Name"), col("Provider Last Name (Legal Name)")) if p),
        "telecom": _telecom(col),
        "address": _address(col),
        "managingOrganization": reference(managing) if managing else None,
    })


def _address(col) -> dict:
    prefix = "Provider Business Practice Location Address"
    country = col(f"{prefix} Country Code (If outside U.S.)") or "US"
    return {
        "use": "work", "type": "physical",
        "line": [col("Provider First Line Business Practice Location Address"),
                 col("Provider Second Line Business Practice Location Address")],
        "city": col(f"{prefix} City Name"), "state": col(f"{prefix} State Name"),
        "postalCode": col(f"{prefix} Postal Code"), "country": country,
    }


def _telecom(col) -> list[dict]:
    prefix = "Provider Business Practice Location Address"
    return [{"system": system, "value": value, "use": "work"}
            for system, value in (("phone", col(f"{prefix} Telephone Number")), ("fax", col(f"{prefix} Fax Number")))
            if value]


def _taxonomies(col) -> list[str]:
    """Taxonomy codes, the primary one first."""
    codes = []
    for i in range(1, TAXONOMY_SLOTS + 1):
        code = col(f"Healthcare Provider Taxonomy Code_{i}")
        if code:
            primary = col(f"Healthcare Provider Primary Taxonomy Switch_{i}") == "Y"
            codes.insert(0, code) if primary else codes.append(code)
    return codes


def _deactivated(col) -> bool:
    deactivated = _date(col("NPI Deactivation Date"))
    reactivated = _date(col("NPI Reactivation Date"))
    return deactivated is not None and (reactivated is None or reactivated < deactivated)


def _date(value: str):
    if not value:
        return None
    try:
        return datetime.strptime(value, "%m/%d/%Y").date()
    except ValueError as exc:
        raise ValueError(f"date {value!r} is not MM/DD/YYYY") from exc
