"""Micro-benchmark: search index extraction, fast path vs fhirpathpy only.

Plain script (not collected by pytest):

    cd /work/main && .venv/bin/python tests/bench/bench_extract.py [seconds-per-case]

Prints resources/s for a realistic Patient and Observation (vital signs with
components), each through ``extract()`` with the fast path and with every expression
evaluated by fhirpathpy, plus the share of R4 search expressions the fast path takes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.search.extract import extract, is_fast  # noqa: E402
from server.search.registry import SearchRegistry  # noqa: E402

PATIENT = {
    "resourceType": "Patient",
    "id": "pat-0001",
    "meta": {
        "versionId": "3",
        "lastUpdated": "2024-05-02T09:14:03.120+02:00",
        "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"],
        "tag": [{"system": "urn:passerelle:source", "code": "hl7v2-adt"}],
        "source": "urn:passerelle:mllp:adt-feed#MSG00042",
    },
    "identifier": [
        {
            "use": "usual",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}], "text": "MRN"},
            "system": "urn:oid:1.2.250.1.71.4.2.7",
            "value": "000123456",
        },
        {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "1850775123456"},
    ],
    "active": True,
    "name": [
        {"use": "official", "family": "Dupré-Lefèvre", "given": ["Hélène", "Marie"], "prefix": ["Mme"]},
        {"use": "maiden", "family": "Lefèvre", "given": ["Hélène"]},
    ],
    "telecom": [
        {"system": "phone", "value": "+33 1 23 45 67 89", "use": "home"},
        {"system": "phone", "value": "+33 6 12 34 56 78", "use": "mobile"},
        {"system": "email", "value": "helene.dupre@example.org"},
    ],
    "gender": "female",
    "birthDate": "1985-07-14",
    "deceasedBoolean": False,
    "address": [
        {
            "use": "home",
            "line": ["12 rue des Lilas", "Bâtiment B"],
            "city": "Lyon",
            "postalCode": "69003",
            "country": "FR",
        }
    ],
    "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
    "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fr-FR"}]}, "preferred": True}],
    "generalPractitioner": [{"reference": "Practitioner/prac-77", "display": "Dr Martin"}],
    "managingOrganization": {"reference": "Organization/hcl"},
    "link": [{"other": {"reference": "Patient/pat-0999"}, "type": "replaces"}],
}

OBSERVATION = {
    "resourceType": "Observation",
    "id": "obs-bp-0001",
    "meta": {"lastUpdated": "2024-05-02T09:20:00Z", "profile": ["http://hl7.org/fhir/StructureDefinition/bp"]},
    "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.9", "value": "OBX-000991"}],
    "basedOn": [{"reference": "ServiceRequest/sr-12"}],
    "status": "final",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs",
                    "display": "Vital Signs",
                }
            ]
        }
    ],
    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}], "text": "Tension"},
    "subject": {"reference": "Patient/pat-0001"},
    "encounter": {"reference": "Encounter/enc-55"},
    "effectiveDateTime": "2024-05-02T09:12:00+02:00",
    "issued": "2024-05-02T09:19:58.412+02:00",
    "performer": [{"reference": "Practitioner/prac-77"}],
    "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "N"}]}],
    "bodySite": {"coding": [{"system": "http://snomed.info/sct", "code": "368209003", "display": "Right arm"}]},
    "device": {"reference": "Device/tensiometer-3"},
    "component": [
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6", "display": "Systolic blood pressure"}]},
            "valueQuantity": {"value": 121, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
        },
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4", "display": "Diastolic blood pressure"}]},
            "valueQuantity": {"value": 78.5, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
        },
    ],
}


def rate(resource: dict, registry: SearchRegistry, fast: bool, seconds: float) -> tuple[float, int]:
    rows = extract(resource, registry, fast=fast)  # warm the compiled-expression caches
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            extract(resource, registry, fast=fast)
        count += 20
    return count / elapsed, len(rows)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    registry = SearchRegistry.default()
    expressions = {
        p.expression
        for t in registry.resource_types
        for p in registry.for_type(t).values()
        if p.expression and p.type not in ("composite", "special")
    }
    fast = sum(map(is_fast, expressions))
    print(f"fast path: {fast}/{len(expressions)} distinct R4 expressions ({100 * fast / len(expressions):.1f}%)")
    for resource in (PATIENT, OBSERVATION):
        params = sum(1 for p in registry.for_type(resource["resourceType"]).values() if p.expression)
        fast_rate, n_rows = rate(resource, registry, True, seconds)
        slow_rate, _ = rate(resource, registry, False, seconds)
        print(
            f"{resource['resourceType']:<12} {params} params, {n_rows} rows: "
            f"fast path {fast_rate:,.0f}/s   fhirpathpy only {slow_rate:,.0f}/s   x{fast_rate / slow_rate:.1f}"
        )


if __name__ == "__main__":
    main()
