"""Generate profiles/data/summary-elements.json.gz from the R4 StructureDefinitions.

For each concrete R4 resource type: its top-level elements flagged isSummary, and the
mandatory ones (min > 0), which _summary=text keeps. Run:
    python tools/gen_summary_elements.py ../shared/fhir-r4/profiles-resources.json.gz
"""

import gzip
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "profiles" / "data" / "summary-elements.json.gz"


def main(source: str) -> None:
    bundle = json.load(gzip.open(source))
    table = {}
    for entry in bundle["entry"]:
        sd = entry["resource"]
        if sd["resourceType"] != "StructureDefinition" or sd.get("kind") != "resource":
            continue
        if sd.get("abstract") or sd.get("derivation") == "constraint":
            continue
        summary, mandatory = [], []
        for element in sd["snapshot"]["element"]:
            parts = element["path"].split(".")
            if len(parts) != 2:
                continue
            name = parts[1].removesuffix("[x]")
            if element.get("isSummary"):
                summary.append(name)
            if element.get("min", 0) > 0:
                mandatory.append(name)
        table[sd["type"]] = {"summary": summary, "mandatory": mandatory}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt") as out:
        json.dump(table, out, separators=(",", ":"), sort_keys=True)
    print(f"{len(table)} resource types -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
