"""The HL7 FHIRPath R4 suite through fhirpathpy, the general evaluator we use.

fhirpathpy's bugs are not ours to fix: its failures are listed in
known_fhirpathpy_failures.txt and marked xfail(strict=True), so a fhirpathpy upgrade
that fixes one makes the run say so (then delete its line). See README.md.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fhirpath.official_suite import (
    SUITE_DIR,
    environment,
    lenient_json,
    load_cases,
    load_input,
    mismatch,
    unavailable,
)

KNOWN_FAILURES_FILE = Path(__file__).with_name("known_fhirpathpy_failures.txt")


def known_failures() -> dict[str, str]:
    """Case id -> reason category, from the data file (``id  reason``; ``#`` comments)."""
    known = {}
    for line in KNOWN_FAILURES_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            case_id, _, reason = line.partition(" ")
            known[case_id] = reason.strip()
    return known


def _params():
    if reason := unavailable():
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
    known = known_failures()
    params = []
    for case in load_cases():
        marks = []
        if case.id in known:
            marks.append(pytest.mark.xfail(strict=True, reason=f"fhirpathpy: {known.pop(case.id)}"))
        params.append(pytest.param(case, id=case.id, marks=marks))
    assert not known, f"known_fhirpathpy_failures.txt names cases the suite lacks: {sorted(known)}"
    return params


CASES = _params()


def evaluate(case) -> list:
    """Run the case with fhirpathpy as the server does (R4 model, raw typed nodes),
    with the FHIR environment variables; returns (suite type name, value) pairs."""
    import fhirpathpy
    from fhirpathpy.engine.nodes import TypeInfo
    from fhirpathpy.models import models

    r4 = models["r4"]
    resource = load_input(case.inputfile)
    options = {"returnRawData": True, "traceFn": lambda label, value: None}
    TypeInfo.model = r4  # as server/search/extract/fallback.py does before each call
    result = fhirpathpy.evaluate(resource, case.expression, environment(resource, case.expression), r4, options)
    return [typed(item) for item in (result if isinstance(result, list) else [result])]


_SYSTEM = {"String": "string", "Boolean": "boolean", "Integer": "integer", "Decimal": "decimal"}
_SYSTEM |= {"Date": "date", "DateTime": "dateTime", "Time": "time", "Quantity": "Quantity"}


def typed(item) -> tuple[str | None, object]:
    """A fhirpathpy result item as (type, value), with the type fhirpathpy gives it."""
    from fhirpathpy.engine.nodes import FP_DateTime, FP_Quantity, FP_Time, ResourceNode

    if isinstance(item, ResourceNode):
        kind = item.path
        if kind and kind.startswith("System."):
            kind = _SYSTEM.get(kind[7:], kind)
        value = item.data
        if isinstance(value, (FP_DateTime, FP_Time)):
            value = value.asStr
        return kind, value
    if isinstance(item, bool):
        return "boolean", item
    if isinstance(item, int):
        return "integer", item
    if isinstance(item, (float, Decimal)):
        return "decimal", item
    if isinstance(item, str):
        return "string", item
    if isinstance(item, FP_Quantity):
        return "Quantity", str(item)
    if isinstance(item, FP_Time):
        return "time", item.asStr
    if isinstance(item, FP_DateTime):
        # fhirpathpy has one class for Date and DateTime: no time part, a date
        return ("dateTime" if "T" in item.asStr else "date"), item.asStr
    return type(item).__name__, item


@pytest.mark.parametrize("case", CASES)
def test_fhirpathpy(case):
    if case.invalid:
        with pytest.raises(Exception):  # noqa: B017 - any failure: the suite names no error types
            result = evaluate(case)
            pytest.fail(f"expected an error ({case.invalid}), got {result!r}")  # raises Failed, not Exception
        return
    result = evaluate(case)
    assert mismatch(case, result) is None, mismatch(case, result)


def test_every_case_is_read():
    if reason := unavailable():
        pytest.skip(reason)
    cases = load_cases()
    # The file has 937 <test> elements; two sit inside XML comments (retired by HL7).
    assert len(cases) == 935
    assert {c.inputfile for c in cases if c.inputfile} == {
        p.name for p in SUITE_DIR.iterdir() if p.suffix in (".xml", ".json") and p.name != "tests-fhir-r4.xml"
    }


def test_lenient_reader_agrees_with_fhir_resources():
    """The inputs fhir.resources reads give the same JSON through lenient_json,
    so the one it refuses (parameters-example-types.xml) is read the same way."""
    if reason := unavailable():
        pytest.skip(reason)
    from lxml import etree

    from tests.patch.test_fhirpath_patch import fhir_json

    compared = 0
    for path in sorted(SUITE_DIR.glob("*.xml")):
        if path.name == "tests-fhir-r4.xml" or path.name == "parameters-example-types.xml":
            continue
        strict = fhir_json(etree.parse(str(path), etree.XMLParser(remove_comments=True)).getroot())
        lenient = lenient_json(etree.parse(str(path), etree.XMLParser(remove_comments=True)).getroot())
        for resource in (strict, lenient):
            resource.get("text", {}).pop("div", None)  # XHTML serialisation details
        assert lenient == strict, path.name
        compared += 1
    assert compared == 6
    parameters = load_input("parameters-example-types.xml")
    assert parameters["parameter"][2] == {"name": "uuid", "valueUuid": "urn:uuid:79a14950-442c-11ed-b878-0242ac120002"}
