"""PID-10 race and PID-22 ethnic group -> the US Core race and ethnicity extensions.

The IG leaves both fields to the realm ("use your local extension, e.g. US Core"):
they are mapped when the site's configuration says ``"realm": "US"``. Each repetition
gives an ``ombCategory`` or a ``detailed`` coding when its code (CWE-1, else CWE-4) or
its text is one of table 0005 / 0189, a CDC code or a legacy alias; ``text`` (required
by US Core) is what was sent: CWE-9, else CWE-2, else CWE-1.
"""

from __future__ import annotations

from collections.abc import Callable

from terminology.v2 import Coding
from terminology.v2.race_ethnicity import ethnicity, race

from ..message import Rep

RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"


def race_extension(reps: list[Rep]) -> dict | None:
    return _extension(RACE, reps, race)


def ethnicity_extension(reps: list[Rep]) -> dict | None:
    return _extension(ETHNICITY, reps, ethnicity)


def _extension(url: str, reps: list[Rep], classify: Callable[[str, str], tuple[str, Coding] | None]) -> dict | None:
    found: dict[str, list[dict]] = {"ombCategory": [], "detailed": []}
    texts = []
    for rep in reps:
        if rep.empty():
            continue
        text = (rep.get(9) if len(rep) >= 9 else "") or rep.get(2) or rep.get(1)
        texts.append(text)
        hit = classify(rep.get(1), rep.get(2)) or classify(rep.get(4), rep.get(5)) or classify(rep.get(2), "")
        if hit is not None:
            slot = "ombCategory" if hit[0] == "omb" else "detailed"
            coding = hit[1].as_fhir()
            if coding not in found[slot]:
                found[slot].append(coding)
    if not texts:
        return None
    parts = [{"url": slot, "valueCoding": c} for slot in ("ombCategory", "detailed") for c in found[slot]]
    parts.append({"url": "text", "valueString": ", ".join(dict.fromkeys(texts))})
    return {"extension": parts, "url": url}
