"""CWE / CE / CNE / CF / ID / IS -> CodeableConcept, Coding, code.

Coding system names (HL7 table 0396: ``LN``, ``SCT``, ``I10``, ``HL70001``...) become
FHIR system URIs through ``terminology/v2/coding_systems.json``; v2 table values are
translated through the IG's concept maps when the field has one.
"""

from __future__ import annotations

from terminology.v2 import coding_system, translate, v2_system

from ..message import Rep


def _coding(code: str, display: str, system_name: str, table: str | None) -> dict | None:
    """One coding as sent; the table's v2 system when CWE-3 names none (a text alone is no coding)."""
    if not code:
        return None
    out: dict = {}
    system = coding_system(system_name) if system_name else (v2_system(table) if table else None)
    if system:
        out["system"] = system
    out["code"] = code
    if display:
        out["display"] = display
    return out


def codeable(rep: Rep | None, map_name: str | None = None, table: str | None = None) -> dict | None:
    """A CWE as a CodeableConcept: the IG concept map's coding first (when the field has
    one and knows the code), then the primary and alternate codings as sent."""
    if rep is None or rep.empty():
        return None
    code, text, system_name = rep.get(1), rep.get(2), rep.get(3)
    codings = []
    if map_name and code:
        mapped = translate(map_name, code)
        if mapped:
            codings.append(mapped.as_fhir())
    primary = _coding(code, text, system_name, table)
    if primary and primary not in codings:
        codings.append(primary)
    alternate = _coding(rep.get(4), rep.get(5), rep.get(6), None)
    if alternate:
        codings.append(alternate)
    out: dict = {}
    if codings:
        out["coding"] = codings
    original = rep.get(9) if len(rep) >= 9 else ""
    if original or text:
        out["text"] = original or text
    return out or None


def coding(rep: Rep | None, map_name: str | None = None, table: str | None = None) -> dict | None:
    concept = codeable(rep, map_name, table)
    return concept["coding"][0] if concept and concept.get("coding") else None


def code(value: str, map_name: str) -> str | None:
    """A v2 code (ID, IS, CWE-1) as the FHIR ``code`` the IG maps it to."""
    if not value:
        return None
    mapped = translate(map_name, value)
    return mapped.code if mapped else None
