"""Structural validation of FHIR R4 JSON, driven by the R4 StructureDefinitions as data.

What is checked is what the StructureDefinition snapshots state: element names (a choice
``value[x]`` becomes ``valueQuantity``, ``valueString``, ...), cardinality (min, max, array
or not), the JSON type and spec regex of every primitive, ``_element`` extension siblings
of primitives (and the null placeholders that line primitive arrays up with them), nested
backbone elements and data types (``contentReference`` included), contained and embedded
resources, the resourceType, and unknown elements. Besides that, two JSON-format rules
every element obeys: ele-1 (no empty element) and ext-1 (an extension has a value or
extensions, not both). A ``code`` element with a required binding (``Patient.gender``,
``Observation.status``) must hold a code of its value set, when a caller has said where
those codes come from (``use_required_codes``: this package reads no terminology).
Other invariants (FHIRPath constraints), other bindings and reference targets are not
checked here.

A type's ``Shape`` is compiled once from its StructureDefinition and cached; validation is
a plain walk of the JSON against it. Shapes are public: ``shape(type_name)`` gives the
element facts (JSON keys, cardinality, types, choice groups, isSummary) that PATCH and
``_summary`` read too, so the whole server uses one copy of the R4 definitions.
"""

from __future__ import annotations

import datetime
import math
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Callable, NamedTuple

from profiles import load_bundle

DATA = "r4-structuredefinitions"
SYSTEM = "http://hl7.org/fhirpath/System."
EXT_FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
EXT_REGEX = "http://hl7.org/fhir/StructureDefinition/regex"
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
INT32 = (-(2**31), 2**31 - 1)  # integer, positiveInt, unsignedInt are 32-bit (datatypes.html)


class Issue(NamedTuple):
    expression: str  # FHIRPath of the faulty element, e.g. Patient.name[0].given[0]
    diagnostics: str
    code: str  # OperationOutcome issue type: structure | required | value | too-costly


@dataclass(slots=True, eq=False)
class Element:
    name: str  # JSON property name, e.g. "valueQuantity"
    type: str  # FHIR type code, e.g. "Quantity", "string", "BackboneElement"
    array: bool
    max: int | None  # None: unbounded
    check: Callable[[object], str | None] | None  # primitive checker; None for complex
    extensible: bool  # a FHIR primitive, so `_name` may carry its id/extensions
    shape: Shape | None  # complex content; None for primitives and Resource
    choice: str | None  # the choice group, e.g. "value[x]"
    summary: bool = False  # isSummary: part of a _summary=true rendering
    definition: str | None = None  # a `code` element's path in its StructureDefinition (Address.use)


@dataclass(slots=True, eq=False)
class Shape:
    name: str  # type or backbone path, e.g. "Patient", "Patient.contact", "Quantity"
    elements: dict[str, Element] = field(default_factory=dict)
    required: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    is_resource: bool = False
    is_extension: bool = False
    needs_content: bool = True  # ele-1; off for `_name` siblings, judged with their value


# ---------------------------------------------------------------- definitions as data


@cache
def _definitions() -> dict[str, dict]:
    bundle = load_bundle(DATA)
    return {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}


@cache
def known_resource_types() -> frozenset[str]:
    """Concrete R4 resource types (Resource, DomainResource are abstract; MetadataResource is a logical model)."""
    return frozenset(
        sd["type"] for sd in _definitions().values()
        if sd["kind"] == "resource" and not sd.get("abstract") and sd.get("derivation") == "specialization"
    )


@cache
def _children(sd_id: str) -> dict[str, list[dict]]:
    """Element definitions of a StructureDefinition grouped by parent path."""
    out: dict[str, list[dict]] = {}
    for e in _definitions()[sd_id]["snapshot"]["element"]:
        parent, _, _ = e["path"].rpartition(".")
        if parent:
            out.setdefault(parent, []).append(e)
    return out


# ---------------------------------------------------------------- primitives


def _json_type(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float, Decimal)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(v), type(v).__name__)


def _real_date(text: str) -> bool:
    # The spec regexes cannot express month lengths; the spec requires real dates.
    if len(text) < 10:
        return True
    try:
        datetime.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def _primitive_checker(type_code: str) -> Callable[[object], str | None]:
    """A checker returning None when ``v`` is a valid JSON value of the primitive, else why not."""
    sd = _definitions()[type_code]
    regex = None
    for e in sd["snapshot"]["element"]:
        if e["path"] == f"{type_code}.value":
            for ext in e["type"][0].get("extension", []):
                if ext["url"] == EXT_REGEX:
                    regex = ext["valueString"]
    if type_code == "base64Binary":
        # The spec's (\s*([0-9a-zA-Z\+/=]){4}\s*)+ backtracks exponentially on a long
        # invalid value with line breaks; \s*([..]{4}\s*)+ is the same language, linear.
        regex = r"\s*([0-9a-zA-Z+/=]{4}\s*)+"
    # re.ASCII: the spec regexes follow XML Schema / Java, where \s and \S are ASCII.
    fullmatch = re.compile(regex, re.ASCII).fullmatch if regex else None

    if type_code == "boolean":
        return lambda v: None if type(v) is bool else f"expected a JSON boolean, got {_json_type(v)}"

    if type_code in ("integer", "positiveInt", "unsignedInt"):
        def check_int(v):
            if type(v) is not int:
                return f"expected a JSON integer, got {_json_type(v)}"
            if not (INT32[0] <= v <= INT32[1]) or not fullmatch(str(v)):
                return f"{v} is not a valid {type_code}"
            return None
        return check_int

    if type_code == "decimal":
        def check_decimal(v):
            t = type(v)
            if t is int or (t is Decimal and v.is_finite()) or (t is float and math.isfinite(v)):
                return None
            return f"expected a JSON number, got {_json_type(v) if t not in (Decimal, float) else v}"
        return check_decimal

    if type_code == "xhtml":
        # R4 gives xhtml no regex: its content is one XHTML <div> (narrative.html).
        def check_xhtml(v):
            if type(v) is not str:
                return f"expected a JSON string, got {_json_type(v)}"
            return None if v.lstrip().startswith("<div") else "xhtml must be a <div> element"
        return check_xhtml

    dated = type_code in ("date", "dateTime", "instant")

    def check_str(v):
        if type(v) is not str:
            return f"expected a JSON string, got {_json_type(v)}"
        if not v:
            # uri/url/canonical regexes (\S*) allow "", but an empty value is no value (ele-1)
            return "empty string (an element must have a value, ele-1)"
        if fullmatch is not None and fullmatch(v) is None:
            return f"{_shorten(v)!r} is not a valid {type_code}"
        if dated and not _real_date(v):
            return f"{v!r} is not a real calendar date"
        return None
    return check_str


def _shorten(v: str) -> str:
    return v if len(v) <= 60 else v[:57] + "..."


@cache
def primitive_checker(type_code: str) -> Callable[[object], str | None]:
    return _primitive_checker(type_code)


def _is_primitive(type_code: str) -> bool:
    sd = _definitions().get(type_code)
    return sd is not None and sd["kind"] == "primitive-type"


# ---------------------------------------------------------------- shapes


# Shapes are compiled lazily, under a lock, into _shapes (where a shape is registered
# before its elements are filled, so recursive structures terminate); a shape is published
# in _ready only once it and everything it reaches are complete, so that another thread
# never validates against a half-built one.
_lock = threading.RLock()
_shapes: dict[tuple[str, str], Shape] = {}
_ready: dict[str, Shape] = {}


def shape(type_name: str) -> Shape:
    """The compiled shape of an R4 resource or data type (KeyError if unknown)."""
    found = _ready.get(type_name)
    if found is not None:
        return found
    if type_name not in _definitions():
        raise KeyError(type_name)
    with _lock:
        built = _shape(type_name, _definitions()[type_name]["type"])
    _ready.setdefault(type_name, built)
    return built


def _shape(sd_id: str, path: str) -> Shape:
    key = (sd_id, path)
    found = _shapes.get(key)
    if found is not None:
        return found
    sd = _definitions()[sd_id]
    is_resource = path == sd["type"] and sd["kind"] == "resource"
    s = Shape(
        name=path if path != sd["type"] else sd_id,
        is_resource=is_resource,
        is_extension=path == "Extension",
        needs_content=not is_resource,  # a resource may be empty but for its resourceType
    )
    _shapes[key] = s  # registered before filling, so recursive structures terminate
    for e in _children(sd_id).get(path, []):
        _add_element(s, sd_id, e)
    return s


def _type_code(t: dict, resource_id: bool) -> str:
    code = t["code"]
    if not code.startswith(SYSTEM):
        return code
    if resource_id:
        # Resource.id is the logical id, of type id (resource.html); the 4.0.1 snapshot
        # only carries the FHIRPath system type String for it.
        return "id"
    for ext in t.get("extension", []):
        if ext["url"] == EXT_FHIR_TYPE:
            return ext["valueUrl"]
    return "string"


def _add_element(s: Shape, sd_id: str, e: dict) -> None:
    if e["max"] == "0":
        return  # prohibited (e.g. SimpleQuantity.comparator): absent from the shape, so rejected
    name = e["path"].rpartition(".")[2]
    summary = e.get("isSummary", False)
    array = e["max"] != "1"
    max_ = None if e["max"] == "*" else int(e["max"])
    if "contentReference" in e:
        ref_path = e["contentReference"].lstrip("#")
        ref_sd = ref_path.split(".")[0]
        target = _shape(ref_sd if ref_sd in _definitions() else sd_id, ref_path)
        s.elements[name] = Element(name, "BackboneElement", array, max_, None, False, target, None, summary)
        if e["min"] > 0:
            s.required.append((name, (name,)))
        return
    types = e["type"]
    choice = name if name.endswith("[x]") else None
    keys = []
    for t in types:
        code = _type_code(t, s.is_resource and name == "id")
        json_name = name[:-3] + code[0].upper() + code[1:] if choice else name
        system_typed = t["code"].startswith(SYSTEM)
        if _is_primitive(code):
            el = Element(json_name, code, array, max_, primitive_checker(code), not system_typed, None, choice, summary,
                         e["path"] if code == "code" else None)
        elif code == "Resource":
            el = Element(json_name, code, array, max_, None, False, None, choice, summary)
        elif code in ("BackboneElement", "Element") and _children(sd_id).get(e["path"]):
            el = Element(json_name, code, array, max_, None, False, _shape(sd_id, e["path"]), choice, summary)
        else:
            # A data type; a profile on it (Quantity as SimpleQuantity) narrows it further.
            profiles = [p.removeprefix(SD_PREFIX) for p in t.get("profile", [])]
            target = profiles[0] if profiles and profiles[0] in _definitions() else code
            target_shape = _shape(target, _definitions()[target]["type"])
            el = Element(json_name, code, array, max_, None, False, target_shape, choice, summary)
        s.elements[json_name] = el
        keys.append(json_name)
        if el.extensible:
            keys.append("_" + json_name)  # an extension stands in for a required primitive's value
    if e["min"] > 0:
        s.required.append((name, tuple(keys)))


# ---------------------------------------------------------------- validation

_required_codes: Callable[[str], frozenset[str] | None] | None = None


def use_required_codes(codes: Callable[[str], frozenset[str] | None]) -> None:
    """Check required bindings: ``codes(path)`` gives the codes a ``code`` element's
    required binding allows (``Patient.gender``: male, female, other, unknown), or None
    when it has none or they cannot be listed (then any code passes)."""
    global _required_codes
    _required_codes = codes



def validate(resource: object, path: str | None = None) -> list[Issue]:
    """Every structural R4 problem of one resource (an empty list when it is valid)."""
    issues: list[Issue] = []
    try:
        _check_resource(resource, path, issues)
    except RecursionError:  # a hostile nesting depth must give an answer, not a stack trace
        issues.append(Issue(path or "Resource", "The resource is nested too deeply to validate", "too-costly"))
    return issues


def _check_resource(value: object, path: str | None, issues: list[Issue]) -> None:
    where = path or "Resource"
    if type(value) is not dict:
        issues.append(Issue(where, f"A resource must be a JSON object, got {_json_type(value)}", "structure"))
        return
    rtype = value.get("resourceType")
    if rtype is None:
        issues.append(Issue(where, "Missing resourceType", "required"))
        return
    if type(rtype) is not str or rtype not in known_resource_types():
        issues.append(Issue(where, f"Unknown resource type {rtype!r} (not an R4 resource type)", "structure"))
        return
    _check_object(value, shape(rtype), path or rtype, issues)


def _check_object(obj: object, s: Shape, path: str, issues: list[Issue]) -> None:
    if type(obj) is not dict:
        issues.append(Issue(path, f"Expected a JSON object ({s.name}), got {_json_type(obj)}", "structure"))
        return
    elements = s.elements
    choices: dict[str, str] | None = None
    content = False  # ele-1: an element needs a value or children besides its id
    unknown = False  # an unknown element is reported once, not again as missing content
    for key, value in obj.items():
        el = elements.get(key)
        if el is None:
            if key[:1] == "_":
                el = elements.get(key[1:])
                if el is not None and el.extensible:
                    content = True
                    if el.choice is not None:  # `_valueString` alone is a present value[x]
                        choices = _note_choice(choices, el, path, issues)
                    _check_extension_sibling(obj, el, value, path, issues)
                    continue
            elif key == "resourceType" and s.is_resource:
                continue
            issues.append(Issue(f"{path}.{key}", f"Unknown element '{key}' in {s.name}", "structure"))
            unknown = True
            continue
        if key != "id":
            content = True
        if el.choice is not None:
            choices = _note_choice(choices, el, path, issues)
        if el.array:
            if type(value) is not list:
                issues.append(Issue(f"{path}.{key}", f"Element '{key}' must be a JSON array, got {_json_type(value)}", "structure"))
                continue
            if not value:
                issues.append(Issue(f"{path}.{key}", f"Element '{key}' is an empty array (omit it instead)", "structure"))
                continue
            if el.max is not None and len(value) > el.max:
                issues.append(Issue(f"{path}.{key}", f"Element '{key}' has {len(value)} items, at most {el.max} allowed", "structure"))
            for i, item in enumerate(value):
                _check_value(obj, el, item, f"{path}.{key}[{i}]", i, issues)
        else:
            if type(value) is list:
                issues.append(Issue(f"{path}.{key}", f"Element '{key}' must not be an array (max cardinality 1)", "structure"))
                continue
            _check_value(obj, el, value, f"{path}.{key}", None, issues)
    for name, keys in s.required:
        for k in keys:
            if k in obj:
                break
        else:
            issues.append(Issue(f"{path}.{name.removesuffix('[x]')}", f"Missing required element '{name}' in {s.name}", "required"))
    if unknown:
        return
    if s.needs_content and not content:
        issues.append(Issue(path, "Element has no value and no children (ele-1)", "structure"))
    if s.is_extension and ("extension" in obj) == bool(choices):
        issues.append(Issue(path, "An extension must have either extensions or a value[x], not both (ext-1)", "structure"))


def _note_choice(choices: dict[str, str] | None, el: Element, path: str, issues: list[Issue]) -> dict[str, str]:
    """Record that a variant of choice ``el.choice`` is present; two different variants is an error."""
    if choices is None:
        choices = {}
    other = choices.setdefault(el.choice, el.name)
    if other != el.name:
        issues.append(Issue(f"{path}.{el.name}", f"Only one of {other} and {el.name} may be present ({el.choice})", "structure"))
    return choices


def _check_value(obj: dict, el: Element, value: object, where: str, index: int | None, issues: list[Issue]) -> None:
    if el.check is not None:
        if value is None:
            # null is only a placeholder in a primitive array, lining values up with `_name`
            ext = obj.get("_" + el.name)
            if index is None or type(ext) is not list or index >= len(ext) or ext[index] is None:
                issues.append(Issue(where, f"Null value for '{el.name}'", "structure"))
            return
        why = el.check(value)
        if why is not None:
            issues.append(Issue(where, f"Invalid {el.type}: {why}", "value"))
        elif el.definition is not None and _required_codes is not None:
            allowed = _required_codes(el.definition)
            if allowed is not None and value not in allowed:
                issues.append(Issue(where, f"'{value}' is not a code allowed in {el.definition}: "
                                    f"{', '.join(sorted(allowed)[:12])}{', …' if len(allowed) > 12 else ''}",
                                    "code-invalid"))
    elif el.shape is not None:
        _check_object(value, el.shape, where, issues)
    else:  # Resource
        if type(value) is dict and "resourceType" in value:
            _check_resource(value, where, issues)
        else:
            issues.append(Issue(where, "Expected a resource (a JSON object with a resourceType)", "structure"))


def _check_extension_sibling(obj: dict, el: Element, ext: object, path: str, issues: list[Issue]) -> None:
    """``_name``: the id/extensions of primitive ``name``, an array aligned with it when it repeats."""
    where = f"{path}.{el.name}"
    element_shape = _sibling_shape()
    if not el.array:
        if type(ext) is list:
            issues.append(Issue(where, f"'_{el.name}' must not be an array", "structure"))
        else:
            _check_sibling_object(ext, obj.get(el.name), element_shape, where, issues)
        return
    if type(ext) is not list or not ext:
        issues.append(Issue(where, f"'_{el.name}' must be a non-empty JSON array", "structure"))
        return
    values = obj.get(el.name)
    if values is not None and type(values) is list and len(values) != len(ext):
        issues.append(Issue(where, f"'{el.name}' and '_{el.name}' must have the same length", "structure"))
    for i, item in enumerate(ext):
        if item is None:
            # both null at one index is reported once, by the value side (_check_value)
            if type(values) is not list or i >= len(values):
                issues.append(Issue(f"{where}[{i}]", f"Null in '_{el.name}' with no value beside it", "structure"))
            continue
        value = values[i] if type(values) is list and i < len(values) else None
        _check_sibling_object(item, value, element_shape, f"{where}[{i}]", issues)


@cache
def _sibling_shape() -> Shape:
    element = shape("Element")
    return Shape("Element", element.elements, element.required, needs_content=False)


def _check_sibling_object(ext: object, value: object, s: Shape, where: str, issues: list[Issue]) -> None:
    # ele-1 judges the primitive as a whole: {"id": ..} beside a value is fine, alone it is empty
    if value is None and type(ext) is dict and not (ext.keys() - {"id"}):
        issues.append(Issue(where, "Element has no value and no children (ele-1)", "structure"))
    _check_object(ext, s, where, issues)
