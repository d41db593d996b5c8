"""Rebuild ``conceptmaps.json.gz`` from the v2-to-FHIR IG's vocabulary CSVs.

    python -m terminology.v2.vendor /work/shared/hl7v2/v2-to-fhir-ig/mappings/codesystems

Each CSV ("HL7 Concept Map_ <Name> - Sheet1.csv") becomes ``{name: {v2 code: [code,
display, system]}}``; rows that map to no FHIR code are kept as ``null`` so that a
known-but-unmappable code is told apart from an unknown one.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).with_name("conceptmaps.json.gz")
_NAME = re.compile(r"HL7 Concept Map_ (.+?) - [^-]+\.csv\Z")


def read_map(path: Path) -> tuple[str, dict]:
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    table = ""
    codes: dict[str, list | None] = {}
    for row in rows[2:]:
        row = row + [""] * (10 - len(row))
        v2_code = row[0].strip()
        if not v2_code:
            continue
        table = table or row[2].strip()
        code, display, system = row[6].strip(), (row[8] or row[7]).strip(), row[9].strip()
        if v2_code not in codes or codes[v2_code] is None:  # the first mapping of a code wins
            codes[v2_code] = [code, display, system] if code and system else None
    return _NAME.match(path.name).group(1), {"table": table, "codes": codes}


def main(folder: str) -> None:
    maps = dict(read_map(p) for p in sorted(Path(folder).glob("HL7 Concept Map_ *.csv")))
    with gzip.open(OUT, "wt", encoding="utf-8") as f:
        json.dump(maps, f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    print(f"{len(maps)} concept maps, {sum(len(m['codes']) for m in maps.values())} codes -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
