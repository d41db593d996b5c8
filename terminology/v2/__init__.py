"""HL7 v2 tables -> FHIR codes, through the v2-to-FHIR IG's vocabulary maps (data).

``translate("AdministrativeSex", "F")`` -> ``Coding("female", "Female",
"http://hl7.org/fhir/administrative-gender")``; ``None`` when the map has no FHIR
code for it. ``v2_system("0203")`` names the code system of a v2 table. Loaded once.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import NamedTuple

_DATA = Path(__file__).with_name("conceptmaps.json.gz")


class Coding(NamedTuple):
    code: str
    display: str
    system: str

    def as_fhir(self) -> dict:
        out = {"system": self.system, "code": self.code}
        if self.display:
            out["display"] = self.display
        return out


@cache
def _maps() -> dict[str, dict]:
    with gzip.open(_DATA, "rt", encoding="utf-8") as f:
        raw = json.load(f)
    return {name: {"table": m["table"], "codes": {k: Coding(*v) if v else None for k, v in m["codes"].items()}}
            for name, m in raw.items()}


def names() -> list[str]:
    return sorted(_maps())


def translate(map_name: str, code: str) -> Coding | None:
    """The FHIR coding of a v2 code in one of the IG's concept maps (KeyError: no such map)."""
    codes = _maps()[map_name]["codes"]
    found = codes.get(code)
    if found is None and code and code.upper() != code:
        found = codes.get(code.upper())
    return found


def known(map_name: str, code: str) -> bool:
    """Whether the v2 code is in the map at all (mapped to FHIR or not)."""
    return code in _maps()[map_name]["codes"]


def v2_system(table: str) -> str:
    """``"0203"``, ``"HL70203"`` -> ``http://terminology.hl7.org/CodeSystem/v2-0203``."""
    digits = table.upper().removeprefix("HL7").lstrip("-_ ")
    return f"http://terminology.hl7.org/CodeSystem/v2-{digits.zfill(4)}"


@cache
def _coding_systems() -> dict[str, str]:
    data = json.loads(_DATA.with_name("coding_systems.json").read_text(encoding="utf-8"))
    data.pop("_comment", None)
    return data


def coding_system(name: str) -> str | None:
    """A v2 coding system name (table 0396: ``LN``, ``SCT``, ``HL70203``, ``99zzz`` local)
    as a FHIR system URI; ``None`` for a local name nobody defined (``99...``, ``L``)."""
    if not name:
        return None
    upper = name.upper()
    if upper.startswith("HL7") and upper[3:].isdigit():
        return v2_system(upper)
    found = _coding_systems().get(upper)
    if found:
        return found
    if name.startswith(("http://", "https://", "urn:")):
        return name
    return None
