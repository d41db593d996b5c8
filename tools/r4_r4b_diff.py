"""Compute every difference between FHIR R4 (4.0.1) and the fhir.resources R4B models.

R4 side: the official StructureDefinitions vendored in profiles/data/ (or ``--r4 FILE``
for another Bundle of them, e.g. ../shared/fhir-r4/profiles-resources.json.gz).
R4B side: the pydantic models of ``fhir.resources.R4B`` (their fields, field types,
list-ness and required-ness). Then probes of how the R4B models treat JSON values that
R4 allows or forbids. Prints markdown (docs/r4-r4b.md is this output plus a preamble):
    python tools/r4_r4b_diff.py > /tmp/diff.md
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import pkgutil
import sys
import types
import typing
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import fhir.resources.R4B as r4b_pkg
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.types import FhirBase
from pydantic import TypeAdapter, ValidationError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYSTEM = "http://hl7.org/fhirpath/System."
EXT_FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
INLINE = "(inline)"  # a backbone element: its content is compared element by element


@dataclass(frozen=True)
class Diff:
    type: str  # the R4 type, e.g. "Evidence"
    path: str  # element path, e.g. "Evidence.outcome"
    kind: str  # only-in-R4 | only-in-R4B | cardinality | type | choice-types | reference-targets
    r4: str
    r4b: str


# ---------------------------------------------------------------- R4 side


def load_r4(paths: list[str] | None) -> dict[str, dict]:
    if not paths:
        from profiles import load_bundle

        bundles = [load_bundle("r4-structuredefinitions")]
    else:
        bundles = [json.load(gzip.open(p)) for p in paths]
    return {
        e["resource"]["id"]: e["resource"]
        for b in bundles for e in b["entry"]
        if e["resource"]["resourceType"] == "StructureDefinition"
    }


def r4_types(sds: dict[str, dict]) -> dict[str, list[str]]:
    kinds = {"resource": [], "complex-type": [], "primitive-type": []}
    for sd in sds.values():
        if sd["kind"] in kinds and sd.get("derivation") != "constraint":
            kinds[sd["kind"]].append(sd["id"])
    return {k: sorted(v) for k, v in kinds.items()}


def r4_type_code(t: dict, resource_id: bool) -> str:
    code = t["code"]
    if not code.startswith(SYSTEM):
        return code
    if resource_id:
        return "id"  # Resource.id is of type id (resource.html); the snapshot says System.String
    for ext in t.get("extension", []):
        if ext["url"] == EXT_FHIR_TYPE:
            return ext["valueUrl"]
    return "string"


def _targets(t: dict) -> list[str]:
    return sorted(p.rsplit("/", 1)[-1] for p in t.get("targetProfile", []))


# ---------------------------------------------------------------- R4B side


def r4b_class(name: str):
    try:
        return get_fhir_model_class(name)
    except (ValueError, KeyError, AttributeError):
        return None


def r4b_all_types() -> set[str]:
    """Every resource and data type that fhir.resources R4B has a module for."""
    names = set()
    for m in pkgutil.iter_modules(r4b_pkg.__path__):
        if m.name.startswith("fhirtypes") or m.name.startswith("_"):
            continue
        mod = importlib.import_module(f"fhir.resources.R4B.{m.name}")
        for attr, obj in vars(mod).items():
            if attr.lower() == m.name and isinstance(obj, type) and getattr(obj, "__resource_type__", None) == attr:
                names.add(attr)
    return names


def _unwrap(annotation) -> tuple[bool, object]:
    """(is_list, inner annotation) with Optional stripped."""
    is_list = False
    a = annotation
    while True:
        origin = typing.get_origin(a)
        if origin in (typing.Union, types.UnionType):
            args = [x for x in typing.get_args(a) if x is not type(None)]
            a = args[0]
        elif origin in (list, typing.List):
            is_list = True
            a = typing.get_args(a)[0]
        else:
            return is_list, a


def r4b_type_name(a) -> tuple[str, type | None]:
    """The FHIR type name of an R4B field's inner annotation, and its model class if complex."""
    if typing.get_origin(a) is typing.Annotated:
        for meta in a.__metadata__:
            if hasattr(meta, "__visit_name__"):
                return meta.__visit_name__, None
        if typing.get_args(a)[0] is uuid.UUID:
            return "uuid", None  # R4B types uuid as a Python UUID (version 4), not a urn:uuid: string
    if a is bool:
        return "boolean", None
    if isinstance(a, type) and issubclass(a, FhirBase):
        klass = a.get_model_klass()
        name = klass.__name__
        if name == "Resource":
            return "Resource", klass
        module = klass.__module__.rsplit(".", 1)[-1]
        return (name if module == name.lower() else INLINE), klass
    return repr(a), None


@dataclass
class Field:
    name: str
    type: str
    klass: type | None
    array: bool
    required: bool
    choice: str | None
    targets: list[str]


def r4b_fields(klass) -> dict[str, Field]:
    out = {}
    for name, f in klass.model_fields.items():
        extra = f.json_schema_extra or {}
        if not extra.get("element_property"):
            continue  # `__ext` siblings and fhir_comments are not elements
        array, inner = _unwrap(f.annotation)
        tname, sub = r4b_type_name(inner)
        required = f.is_required() or bool(extra.get("element_required")) or bool(extra.get("one_of_many_required"))
        out[f.alias or name] = Field(
            f.alias or name, tname, sub, array, required, extra.get("one_of_many"),
            sorted(extra.get("enum_reference_types", [])),
        )
    return out


# ---------------------------------------------------------------- comparison


def _card(min_: int, array: bool) -> str:
    return f"{min_}..{'*' if array else '1'}"


def compare_type(sd: dict, klass, out: list[Diff]) -> None:
    """Compare one R4 type with its R4B model, backbone elements included."""
    children: dict[str, list[dict]] = {}
    for e in sd["snapshot"]["element"]:
        parent = e["path"].rpartition(".")[0]
        if parent:
            children.setdefault(parent, []).append(e)
    is_resource = sd["kind"] == "resource"
    _compare(sd["id"], sd["type"], children, klass, is_resource, out, seen=set())


def _compare(type_name, path, children, klass, is_resource, out, seen) -> None:
    if (path, klass) in seen:
        return
    seen.add((path, klass))
    fields = r4b_fields(klass)
    groups: dict[str, dict[str, Field]] = {}
    for f in fields.values():
        if f.choice:
            groups.setdefault(f.choice, {})[f.name] = f
    used: set[str] = set()
    for e in children.get(path, []):
        name = e["path"].rpartition(".")[2]
        epath = e["path"]
        array = e["max"] != "1"
        if name.endswith("[x]"):
            base = name[:-3]
            group = groups.get(base)
            if group is None:
                out.append(Diff(type_name, epath, "only-in-R4", _card(e["min"], array), ""))
                continue
            used.update(group)
            r4_names = {c[0].upper() + c[1:] for c in (r4_type_code(t, False) for t in e["type"])}
            r4b_names = {f.name[len(base):] for f in group.values()}
            if r4_names != r4b_names:
                gone = sorted(r4_names - r4b_names)
                new = sorted(r4b_names - r4_names)
                out.append(Diff(type_name, epath, "choice-types",
                                "R4 only: " + (", ".join(gone) or "-"), "R4B only: " + (", ".join(new) or "-")))
            any_f = next(iter(group.values()))
            if (e["min"] > 0) != any_f.required:
                out.append(Diff(type_name, epath, "cardinality", _card(e["min"], False), _card(int(any_f.required), False)))
            for t in e["type"]:
                code = r4_type_code(t, False)
                f = group.get(base + code[0].upper() + code[1:])
                if f is not None and _targets(t) != f.targets:
                    out.append(Diff(type_name, f"{epath} ({code})", "reference-targets", ", ".join(_targets(t)), ", ".join(f.targets)))
            continue
        f = fields.get(name)
        if f is None:
            out.append(Diff(type_name, epath, "only-in-R4", _card(e["min"], array) + " " + _r4_type_label(e, is_resource and name == "id"), ""))
            continue
        used.add(name)
        if (e["min"] > 0) != f.required or array != f.array:
            out.append(Diff(type_name, epath, "cardinality", f"{e['min']}..{e['max']}", _card(int(f.required), f.array)))
        if "contentReference" in e:
            continue  # the referenced backbone is compared where it is defined
        r4_code = r4_type_code(e["type"][0], is_resource and name == "id")  # not a choice: one type
        inline = r4_code in ("BackboneElement", "Element") and children.get(epath)
        if inline:
            if f.type != INLINE or f.klass is None:
                out.append(Diff(type_name, epath, "type", "BackboneElement", f.type))
            else:
                _compare(type_name, epath, children, f.klass, False, out, seen)
            continue
        if r4_code != f.type:
            out.append(Diff(type_name, epath, "type", r4_code, "BackboneElement" if f.type == INLINE else f.type))
        elif _targets(e["type"][0]) != f.targets:
            out.append(Diff(type_name, epath, "reference-targets", ", ".join(_targets(e["type"][0])), ", ".join(f.targets)))
    for name, f in fields.items():
        if name in used:
            continue
        if f.choice:
            out.append(Diff(type_name, f"{path}.{f.choice}[x]", "only-in-R4B", "", f"{name}"))
        else:
            out.append(Diff(type_name, f"{path}.{name}", "only-in-R4B", "", f"{_card(int(f.required), f.array)} {f.type if f.type != INLINE else 'BackboneElement'}"))


def _r4_type_label(e: dict, resource_id: bool) -> str:
    if "contentReference" in e:
        return "see " + e["contentReference"]
    return "|".join(r4_type_code(t, resource_id) for t in e["type"])


def _merge_choice_only_in_r4b(diffs: list[Diff]) -> list[Diff]:
    """R4B-only choice groups were emitted once per variant: fold them into one line."""
    merged: dict[tuple, list[str]] = {}
    rest = []
    for d in diffs:
        if d.kind == "only-in-R4B" and d.path.endswith("[x]"):
            merged.setdefault((d.type, d.path), []).append(d.r4b)
        else:
            rest.append(d)
    for (t, p), names in merged.items():
        rest.append(Diff(t, p, "only-in-R4B", "", "choice " + ", ".join(sorted(names))))
    return rest


# ---------------------------------------------------------------- primitive probes

# Values chosen at the edges of each R4 regex and JSON type: (value, valid in R4 JSON?).
PROBES: dict[str, list[tuple[object, bool]]] = {
    "boolean": [(True, True), ("true", False), (1, False)],
    "integer": [(5, True), ("5", False), (Decimal("5.0"), False), (2**31, False), (True, False)],
    "unsignedInt": [(0, True), ("3", False), (-1, False)],
    "positiveInt": [(1, True), (0, False), ("2", False)],
    "decimal": [(Decimal("1.50"), True), (3, True), ("1.5", False), (True, False)],
    "string": [("a", True), ("", False), (" ", True), (5, False)],
    "markdown": [("*a*", True), ("", False)],
    "code": [("final", True), ("", False), (" a", False), ("a  b", False)],
    "id": [("a-1.B", True), ("a" * 64, True), ("a" * 65, False), ("a_b", False)],
    "uri": [("http://x/y", True), ("", False), ("a b", False)],
    "url": [("http://x/y", True), ("a b", False)],
    "canonical": [("http://x/y|1.0", True), ("a b", False)],
    "oid": [("urn:oid:1.2.3", True), ("1.2.3", False)],
    "uuid": [("urn:uuid:c757873d-ec9a-4326-a141-556f43239520", True), ("c757873d-ec9a-4326-a141-556f43239520", False),
             ("urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", True), ("urn:uuid:C757873D-EC9A-4326-A141-556F43239520", False)],
    "base64Binary": [("QUJD", True), ("QU JD", False), ("ab/+", True), ("abc", False)],
    "date": [("2020", True), ("2020-02", True), ("2020-02-29", True), ("2020-02-30", False), ("2020-1-01", False)],
    "dateTime": [("2020-01-01T10:00:00Z", True), ("2020-01-01T10:00:00", False), ("2020-01-01T10:00Z", False), ("2020-01", True)],
    "instant": [("2020-01-01T10:00:00.123+01:00", True), ("2020-01-01", False), ("2020-01-01T10:00:00", False)],
    "time": [("10:00:00", True), ("10:00", False), ("24:00:00", False)],
    "xhtml": [('<div xmlns="http://www.w3.org/1999/xhtml">x</div>', True), ("hello", False)],
}


def _r4b_primitive_adapters() -> dict[str, TypeAdapter]:
    """A TypeAdapter per R4B primitive, taken from an R4B model field of that type."""
    adapters: dict[str, TypeAdapter] = {}
    ext = get_fhir_model_class("Extension")
    for name, f in ext.model_fields.items():
        if name.startswith("value") and not name.endswith("__ext"):
            _, inner = _unwrap(f.annotation)
            tname, klass = r4b_type_name(inner)
            if klass is None:
                adapters[tname] = TypeAdapter(f.annotation)
    adapters["xhtml"] = TypeAdapter(get_fhir_model_class("Narrative").model_fields["div"].annotation)
    return adapters


def primitive_probes() -> list[tuple[str, object, bool, bool]]:
    """(type, value, valid in R4, accepted by R4B) for every probe where the two disagree."""
    from profiles.structure import primitive_checker

    adapters = _r4b_primitive_adapters()
    out = []
    for tname, cases in PROBES.items():
        check = primitive_checker(tname)
        for value, r4_valid in cases:
            assert (check(value) is None) == r4_valid, (tname, value)  # keeps the probes honest
            try:
                adapters[tname].validate_python(value)
                accepted = True
            except (ValidationError, ValueError, TypeError):
                accepted = False
            if accepted != r4_valid:
                out.append((tname, value, r4_valid, accepted))
    return out


# JSON shapes that are not valid R4 JSON (json.html), tried on an R4B Patient.
JSON_PROBES: list[tuple[str, dict]] = [
    ("null as an element value", {"gender": None}),
    ("empty array", {"name": []}),
    ("empty object (ele-1)", {"name": [{}]}),
    ("null inside a primitive array without `_` sibling", {"name": [{"given": [None]}]}),
    ("`fhir_comments` (a DSTU2 JSON property)", {"fhir_comments": ["x"]}),
    ("extension with both value and extensions (ext-1)", {"extension": [{"url": "http://x", "valueString": "a", "extension": [{"url": "http://y", "valueString": "b"}]}]}),
]


def json_probes() -> list[tuple[str, bool]]:
    patient = get_fhir_model_class("Patient")
    out = []
    for label, body in JSON_PROBES:
        try:
            patient.model_validate({"resourceType": "Patient", **body})
            out.append((label, True))
        except (ValidationError, ValueError, TypeError, KeyError):
            out.append((label, False))
    obs = get_fhir_model_class("Observation")
    try:
        obs.model_validate({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                            "referenceRange": [{"low": {"value": 1, "comparator": "<"}}]})
        out.append(("`comparator` on a SimpleQuantity (Observation.referenceRange.low)", True))
    except (ValidationError, ValueError):
        out.append(("`comparator` on a SimpleQuantity (Observation.referenceRange.low)", False))
    return out


# ---------------------------------------------------------------- whole diff


@dataclass
class Report:
    r4: dict[str, list[str]]
    missing: dict[str, list[str]]  # kind -> R4 types without an R4B model
    r4b_only: list[str]
    diffs: list[Diff]
    direct_match: list[str]  # shared types whose own elements all match
    uses: dict[str, set[str]]  # type -> data types it reaches
    transitive_match: list[str]
    primitives: list[tuple[str, object, bool, bool]]
    json: list[tuple[str, bool]]


def compute(paths: list[str] | None = None) -> Report:
    sds = load_r4(paths)
    r4 = r4_types(sds)
    missing: dict[str, list[str]] = {}
    diffs: list[Diff] = []
    shared = []
    for kind in ("resource", "complex-type"):
        for name in r4[kind]:
            klass = r4b_class(name)
            if klass is None or klass.__name__ != name:
                missing.setdefault(kind, []).append(name)
                continue
            shared.append(name)
            compare_type(sds[name], klass, diffs)
    # primitives have no elements to compare: their behaviour is probed below
    diffs = _merge_choice_only_in_r4b(diffs)
    diffs.sort(key=lambda d: (d.type, d.path, d.kind))
    differing = {d.type for d in diffs if d.kind != "reference-targets"}
    direct = [t for t in shared if t not in differing]
    uses = {t: _reached_types(sds, t) for t in r4["resource"] + r4["complex-type"]}
    all_r4 = set(r4["resource"]) | set(r4["complex-type"]) | set(r4["primitive-type"])
    bad = differing | {t for v in missing.values() for t in v}
    transitive = [t for t in direct if not (uses[t] & bad)]
    r4b_only = sorted(r4b_all_types() - all_r4 - {"FHIRPrimitiveExtension"})
    return Report(r4, missing, r4b_only, diffs, direct, uses, transitive, primitive_probes(), json_probes())


def _reached_types(sds: dict[str, dict], root: str) -> set[str]:
    """Every complex data type reachable from ``root`` through its elements."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        sd = sds.get(name)
        if sd is None:
            continue
        for e in sd["snapshot"]["element"]:
            for t in e.get("type", []):
                code = t["code"]
                if code.startswith(SYSTEM) or code in seen or code in ("BackboneElement", "Element", "Resource"):
                    continue
                if sds.get(code, {}).get("kind") == "complex-type":
                    seen.add(code)
                    todo.append(code)
    return seen - {root}


# ---------------------------------------------------------------- markdown


KIND_TEXT = {
    "only-in-R4": "element only in R4",
    "only-in-R4B": "element only in R4B",
    "cardinality": "cardinality differs",
    "type": "type differs",
    "choice-types": "choice types differ",
    "reference-targets": "reference targets differ",
}


def render(rep: Report) -> str:
    n_types = len(rep.r4["resource"]) + len(rep.r4["complex-type"]) + len(rep.r4["primitive-type"])
    structural = [d for d in rep.diffs if d.kind != "reference-targets"]
    targets = [d for d in rep.diffs if d.kind == "reference-targets"]
    by_kind: dict[str, int] = {}
    for d in rep.diffs:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
    lines = [
        "## Summary (generated)",
        "",
        f"- R4 types compared: {n_types} ({len(rep.r4['resource'])} resource StructureDefinitions incl. abstract "
        f"Resource/DomainResource, {len(rep.r4['complex-type'])} complex types, {len(rep.r4['primitive-type'])} primitives).",
        f"- R4 resource types without an R4B model: {len(rep.missing.get('resource', []))}; "
        f"R4 data types without an R4B model: {len(rep.missing.get('complex-type', []))}.",
        f"- R4B types that are not R4: {len(rep.r4b_only)}.",
        f"- Element differences in shared types: {len(structural)} structural in "
        f"{len({d.type for d in structural})} types, plus {len(targets)} reference-target differences "
        f"in {len({d.type for d in targets})} types.",
        "- By kind: " + ", ".join(f"{KIND_TEXT[k]} {v}" for k, v in sorted(by_kind.items())) + ".",
        f"- Shared types whose own elements all match: {len(rep.direct_match)}; of those, matching including "
        f"every data type they use: {len(rep.transitive_match)}"
        + (f" ({', '.join(rep.transitive_match)})" if rep.transitive_match else "")
        + ".",
        f"- Primitive probes where R4B and R4 disagree: {len(rep.primitives)}; "
        f"invalid R4 JSON shapes the R4B models accept: {sum(1 for _, ok in rep.json if ok)} of {len(rep.json)}.",
        "",
        "## R4 types missing in R4B",
        "",
    ]
    for kind, names in sorted(rep.missing.items()):
        lines.append(f"- {kind} ({len(names)}): {', '.join(names)}")
    lines += ["", "## R4B types that are not R4", "", ", ".join(rep.r4b_only) or "none", ""]
    lines += ["## Element differences in shared types", "",
              "| type | element | difference | R4 | R4B |", "|---|---|---|---|---|"]
    for d in structural:
        lines.append(f"| {d.type} | `{d.path}` | {KIND_TEXT[d.kind]} | {d.r4} | {d.r4b} |")
    lines += ["", "## Reference target differences", "",
              "| type | element | R4 targets | R4B targets |", "|---|---|---|---|"]
    for d in targets:
        lines.append(f"| {d.type} | `{d.path}` | {d.r4} | {d.r4b} |")
    lines += ["", "## Data types whose difference reaches other types", "",
              "| data type | R4 types using it (directly or through other data types) |", "|---|---|"]
    differing_dt = sorted({d.type for d in structural} & set(rep.r4["complex-type"]))
    for dt in differing_dt:
        users = sorted(t for t, u in rep.uses.items() if dt in u)
        lines.append(f"| {dt} | {len(users)} |")
    lines += ["", "## Primitive values: R4 versus the R4B models", "",
              "| type | JSON value | valid R4 | R4B model |", "|---|---|---|---|"]
    for tname, value, r4_ok, r4b_ok in rep.primitives:
        shown = json.dumps(value if not isinstance(value, Decimal) else float(value)) if not isinstance(value, Decimal) else f"{value} (number)"
        lines.append(f"| {tname} | `{shown}` | {'yes' if r4_ok else 'no'} | {'accepts' if r4b_ok else 'rejects'} |")
    lines += ["", "## JSON rules: invalid R4 JSON tried on R4B models", "",
              "| invalid in R4 | R4B model |", "|---|---|"]
    for label, accepted in rep.json:
        lines.append(f"| {label} | {'accepts' if accepted else 'rejects'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--r4", action="append", help="gzipped Bundle(s) of R4 StructureDefinitions (default: vendored)")
    args = ap.parse_args(argv)
    sys.stdout.write(render(compute(args.r4)))


if __name__ == "__main__":
    main()
