"""Rebuild ``terminology/data/`` from the official FHIR R4 package (see README.md).

Source: the npm package ``hl7.fhir.r4.examples@4.0.1`` (CC0), which ships the spec's own
terminology Bundles (``Bundle-valuesets.json``: FHIR value sets and code systems;
``Bundle-v2-valuesets.json``: v2 tables; ``Bundle-v3-valuesets.json``: v3 code systems)
and StructureDefinitions. Only what expansion, subsumption and bound-code indexing read
is kept:

- ``valuesets.json.gz``: a Bundle of ValueSets trimmed to url, version, name, compose;
- ``codesystems.json.gz``: a Bundle of CodeSystems trimmed to url, version, name,
  content, hierarchyMeaning and the concept tree (code, display, nested concepts, the
  v3 ``child`` property that adds a second parent);
- ``bindings.json.gz``: ``{element path: value set url}`` for every element of type
  ``code`` with a *required* binding, from the resource and data type
  StructureDefinitions (``Patient.gender`` -> ``.../ValueSet/administrative-gender``).

Run: ``python -m terminology.vendor [UNPACKED_PACKAGE_DIR]`` (default: the tests' cache).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
BUNDLES = ("Bundle-valuesets.json", "Bundle-v2-valuesets.json", "Bundle-v3-valuesets.json")
VALUESET_KEYS = ("resourceType", "url", "version", "name", "compose")
CODESYSTEM_KEYS = ("resourceType", "url", "version", "name", "content", "hierarchyMeaning", "caseSensitive")


def _concepts(concepts: list[dict]) -> list[dict]:
    out = []
    for c in concepts:
        kept = {k: c[k] for k in ("code", "display") if k in c}
        children = [p for p in c.get("property") or () if p.get("code") == "child"]
        if children:
            kept["property"] = [{"code": "child", "valueCode": p["valueCode"]} for p in children]
        if c.get("concept"):
            kept["concept"] = _concepts(c["concept"])
        out.append(kept)
    return out


def _trim(resource: dict) -> dict | None:
    if resource["resourceType"] == "ValueSet":
        return {k: resource[k] for k in VALUESET_KEYS if k in resource}
    if resource["resourceType"] == "CodeSystem":
        out = {k: resource[k] for k in CODESYSTEM_KEYS if k in resource}
        out["url"] = resource["url"].split("|")[0]  # v2-0360 is published as "url|2.7" and "url|2.3.1"
        if resource.get("concept"):
            out["concept"] = _concepts(resource["concept"])
        return out
    return None


def _bundle(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _bindings(package: Path) -> dict[str, str]:
    sds = [e["resource"] for e in json.loads((package / "Bundle-resources.json").read_text())["entry"]
           if e["resource"]["resourceType"] == "StructureDefinition"]
    for path in sorted(package.glob("StructureDefinition-*.json")):
        sd = json.loads(path.read_text())
        if sd.get("kind") == "complex-type" and sd.get("derivation") == "specialization":
            sds.append(sd)
    out = {}
    for sd in sds:
        for element in sd["snapshot"]["element"]:
            binding = element.get("binding") or {}
            types = [t.get("code") for t in element.get("type") or ()]
            if types == ["code"] and binding.get("strength") == "required" and binding.get("valueSet"):
                out[element["path"]] = binding["valueSet"].split("|")[0]
    return dict(sorted(out.items()))


def _write(name: str, data) -> None:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    (DATA / name).write_bytes(gzip.compress(raw, 9, mtime=0))


def vendor(package: Path) -> None:
    valuesets, codesystems = {}, {}
    for name in BUNDLES:
        for entry in json.loads((package / name).read_text())["entry"]:
            trimmed = _trim(entry["resource"])
            if trimmed is None:
                continue
            # v2-0360 comes twice (2.3.1 and 2.7); the later entry (2.7) wins.
            (valuesets if trimmed["resourceType"] == "ValueSet" else codesystems)[trimmed["url"]] = trimmed
    DATA.mkdir(exist_ok=True)
    _write("valuesets.json.gz", _bundle([valuesets[u] for u in sorted(valuesets)]))
    _write("codesystems.json.gz", _bundle([codesystems[u] for u in sorted(codesystems)]))
    _write("bindings.json.gz", _bindings(package))
    print(f"{len(valuesets)} value sets, {len(codesystems)} code systems -> {DATA}")


def main(argv: list[str]) -> None:
    if argv:
        package = Path(argv[0])
    else:
        sys.path.insert(0, str(ROOT))
        from tests.r4_examples import r4_examples_dir

        package = r4_examples_dir()
        if package is None:
            sys.exit("npm is not available: pass an unpacked hl7.fhir.r4.examples@4.0.1 folder")
    vendor(package)


if __name__ == "__main__":
    main(sys.argv[1:])
