"""The HL7 FHIRPath R4 suite (shared/fhir-tests/fhirpath/tests-fhir-r4.xml) as data.

Read by test_fhirpath_suite.py (fhirpathpy) and test_fastpath_suite.py (our fast path).
Not a test module itself: cases, their input resources, and the suite's way of
comparing outputs (see README.md beside this file).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SUITE_DIR = SHARED / "fhir-tests/fhirpath"
SUITE_FILE = SUITE_DIR / "tests-fhir-r4.xml"

try:
    from lxml import etree
except ImportError:  # only the XML cases need it
    etree = None


def unavailable() -> str | None:
    """Why the suite cannot run here, or None."""
    if not SUITE_FILE.exists():
        return f"{SUITE_FILE} not found (CI puts shared/ beside the clone)"
    if etree is None:
        return "the FHIRPath suite's XML needs lxml"
    return None


@dataclass(frozen=True)
class Output:
    type: str | None  # the suite's type name (boolean, string, code, date, Quantity...); None: untyped
    text: str


@dataclass(frozen=True)
class Case:
    id: str  # the case's name; a repeated name gets "#2", "#3"...
    group: str
    expression: str
    inputfile: str | None
    invalid: str | None  # syntax, semantic, execution, true: evaluating must fail
    outputs: tuple[Output, ...]
    predicate: bool  # compare the result converted to one boolean
    ordered: bool  # False: outputs may come in any order
    mode: str | None  # "strict": static checks (unknown elements...) are expected


@cache
def load_cases() -> tuple[Case, ...]:
    """Every <test> of the suite, in file order (XML comments hold a few retired ones)."""
    root = etree.parse(str(SUITE_FILE), etree.XMLParser(remove_comments=True)).getroot()
    cases, seen = [], {}
    for group in root.iter("group"):
        for test in group.iter("test"):
            expression = test.find("expression")
            name = test.get("name") or f"line{test.sourceline}"
            seen[name] = seen.get(name, 0) + 1
            cases.append(
                Case(
                    id=name if seen[name] == 1 else f"{name}#{seen[name]}",
                    group=group.get("name"),
                    expression=expression.text,
                    inputfile=test.get("inputfile"),
                    invalid=expression.get("invalid"),
                    outputs=tuple(Output(o.get("type"), o.text or "") for o in test.findall("output")),
                    predicate=test.get("predicate") == "true",
                    ordered=test.get("ordered") != "false",
                    mode=expression.get("mode") or test.get("mode"),
                )
            )
    return tuple(cases)


# -- inputs -----------------------------------------------------------------------------


@cache
def _input(name: str) -> dict:
    path = SUITE_DIR / name
    if name.endswith(".json"):
        return json.loads(path.read_text(encoding="utf-8"))
    from tests.patch.test_fhirpath_patch import fhir_json  # FHIR XML -> JSON, via fhir.resources

    try:
        return fhir_json(_parse(path))
    except ValueError:
        # fhir.resources validates while it reads: its R4B model refuses
        # parameters-example-types.xml (a version-1 UUID where it wants version 4).
        return lenient_json(_parse(path))


def _parse(path: Path):
    return etree.parse(str(path), etree.XMLParser(remove_comments=True)).getroot()


def load_input(name: str | None) -> dict | None:
    """The case's input resource as FHIR JSON (a fresh copy: engines may annotate it)."""
    return None if name is None else copy.deepcopy(_input(name))


_NUMBERS = frozenset({"boolean", "integer", "positiveInt", "unsignedInt", "decimal"})


def lenient_json(element, type_name: str | None = None) -> dict:
    """FHIR XML -> JSON from fhir.resources' R4B model metadata (names, cardinality,
    primitive types) without its validation. Only for inputs ``fhir_json`` refuses; on the
    suite's other XML inputs both give the same JSON (test_fhirpath_suite checks it)."""
    from fhir.resources import R4B
    from fhir_core.utils import determine_version_prefix, get_fhir_type_name, is_list_type, is_primitive_type

    local = etree.QName(element).localname
    klass = R4B.get_fhir_model_class(type_name or local)
    out: dict = {} if type_name else {"resourceType": local}
    for key in ("id", "url"):  # attributes: element ids, Extension.url
        if element.get(key) is not None:
            out[key] = element.get(key)
    aliases = klass.get_alias_mapping()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        field = klass.model_fields[aliases[name]]
        ftype = get_fhir_type_name(field, prefix=determine_version_prefix(R4B.__name__))
        extension = None
        if ftype == "xhtml":
            child.tail = None
            value = etree.tostring(child, encoding="unicode")
        elif is_primitive_type(field):
            raw = child.get("value")
            value = json.loads(raw) if raw is not None and ftype in _NUMBERS else raw
            if len(child):
                extension = lenient_json(child, "Element")
        elif ftype == "Resource":
            value = lenient_json(next(c for c in child if isinstance(c.tag, str)))
        else:
            value = lenient_json(child, ftype)
        if is_list_type(field):
            out.setdefault(name, []).append(value)
            if extension is not None or f"_{name}" in out:
                extensions = out.setdefault(f"_{name}", [])
                extensions.extend([None] * (len(out[name]) - 1 - len(extensions)))
                extensions.append(extension)
        else:
            out[name] = value
            if extension is not None:
                out[f"_{name}"] = extension
    return out


_NAMED_VARIABLE = re.compile(r"%`(vs|ext)-([^`]+)`")


def environment(resource: dict | None, expression: str) -> dict:
    """The FHIR-defined environment variables (FHIR R4 §2.1.9.1.2 / FHIRPath §9)."""
    env = {
        "resource": resource,
        "rootResource": resource,
        "context": resource,
        "sct": "http://snomed.info/sct",
        "loinc": "http://loinc.org",
        "ucum": "http://unitsofmeasure.org",
    }
    for kind, name in _NAMED_VARIABLE.findall(expression):
        base = "ValueSet" if kind == "vs" else "StructureDefinition"
        env[f"{kind}-{name}"] = f"http://hl7.org/fhir/{base}/{name}"
    return env


# -- comparing --------------------------------------------------------------------------

Typed = tuple[str | None, object]  # (type name as the suite spells it, value)

_TEMPORAL = frozenset({"date", "dateTime", "instant", "time"})


def as_predicate(result: list[Typed]) -> list[Typed]:
    """``predicate="true"``: the result as one boolean (empty: false, one boolean: it, else true)."""
    if len(result) == 1 and isinstance(result[0][1], bool):
        return result
    return [("boolean", bool(result))]


def _same_value(kind: str | None, text: str, value: object) -> bool:
    if isinstance(value, bool) or kind == "boolean":
        return isinstance(value, bool) and text == ("true" if value else "false")
    if kind in _TEMPORAL:
        return text.removeprefix("@").removeprefix("T") == str(value).removeprefix("T")
    if isinstance(value, (int, float, Decimal)):
        try:
            return Decimal(text) == Decimal(str(value))  # 1 = 1.0: numbers, not their spelling
        except InvalidOperation:
            return False
    return text == str(value)


def mismatch(case: Case, result: list[Typed]) -> str | None:
    """Why ``result`` is not the case's expected output, or None when it is.

    Types must be equal when the suite gives one (``code`` is not ``string``); values
    compare as the suite writes them (``@`` prefix off temporal literals, numbers by value).
    """
    if case.predicate:
        result = as_predicate(result)
    expected = list(case.outputs)
    if len(result) != len(expected):
        return f"expected {len(expected)} outputs {_show(expected)}, got {len(result)}: {result!r}"
    pairs = list(zip(expected, result))
    if not case.ordered:
        remaining, pairs = list(result), []
        for want in expected:
            found = next((r for r in remaining if _matches(want, r)), None)
            if found is None:
                return f"no output matches {want.type}:{want.text!r} in {result!r}"
            remaining.remove(found)
            pairs.append((want, found))
    for i, (want, (kind, value)) in enumerate(pairs):
        if not _matches(want, (kind, value)):
            return f"output {i}: expected {want.type}:{want.text!r}, got {kind}:{value!r}"
    return None


def _matches(want: Output, got: Typed) -> bool:
    kind, value = got
    if want.type is not None and want.type != kind:
        return False
    return _same_value(want.type or kind, want.text, value)


def _show(outputs: list[Output]) -> str:
    return "[" + ", ".join(f"{o.type}:{o.text!r}" for o in outputs) + "]"
