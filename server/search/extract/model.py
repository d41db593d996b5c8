"""The R4 type model both evaluators share: element types, choice types, subtyping.

Data comes from fhirpathpy's own R4 model (``path2Type``, ``choiceTypePaths``,
``type2Parent``, ``pathsDefinedElsewhere``), so that the fast path types every node
exactly as fhirpathpy does and the two evaluators give identical rows.

A node's type is a FHIR type name (``HumanName``, ``dateTime``, ``Patient``), a
``System.*`` name (``System.String`` for ``id`` elements), or the element path of a
backbone element (``Observation.component``), as fhirpathpy reports them.
"""

from __future__ import annotations

from fhirpathpy.models import models

R4 = models["r4"]
_PATH2TYPE: dict[str, str] = R4["path2Type"]
_CHOICES: dict[str, list[str]] = R4["choiceTypePaths"]
_ELSEWHERE: dict[str, str] = R4["pathsDefinedElsewhere"]
_TYPE2PARENT: dict[str, str] = R4["type2Parent"]

QUANTITY_TYPES = frozenset({"Quantity", "Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"})
_SYSTEM_TO_FHIR = {
    "String": "string",
    "Boolean": "boolean",
    "Integer": "integer",
    "Decimal": "decimal",
    "Date": "date",
    "DateTime": "dateTime",
    "Time": "time",
}

MemberSpec = tuple[tuple[str, str | None, str], ...]
_MEMBERS: dict[tuple[str, str], MemberSpec] = {}


def is_primitive(type_name: str) -> bool:
    # FHIR primitive type names start lower-case (string, dateTime...); so do System ones here.
    return type_name[0].islower() or type_name.startswith("System.")


def member_spec(parent_type: str, key: str) -> MemberSpec:
    """Which JSON keys hold member ``key`` of a node of ``parent_type``, and their types.

    ``((json key, "_" + json key or None, child type), ...)``: one entry for a plain
    element, one per allowed type for a choice element (``value`` -> ``valueQuantity``,
    ``valueString``...) in fhirpathpy's order. The ``_key`` (a primitive's id and
    extensions) is only given for primitive types: valid JSON has it nowhere else.
    """
    spec = _MEMBERS.get((parent_type, key))
    if spec is None:
        child = f"{parent_type}.{key}"
        child = _ELSEWHERE.get(child, child)
        choices = _CHOICES.get(child)
        if choices:
            found = [(key + t, _PATH2TYPE.get(child + t, child + t)) for t in choices]
        elif key == "extension":
            found = [(key, _PATH2TYPE.get("Extension", "Extension"))]
        else:
            found = [(key, _PATH2TYPE.get(child, child))]
        spec = tuple((k, f"_{k}" if is_primitive(t) else None, t) for k, t in found)
        _MEMBERS[(parent_type, key)] = spec
    return spec


def defining_path(parent_type: str, key: str) -> str:
    """The path that defines member ``key`` (``Questionnaire.item.item`` is defined by
    ``Questionnaire.item``; a member of an Address is ``Address.<key>``)."""
    child = f"{parent_type}.{key}"
    return _ELSEWHERE.get(child, child)


def is_of_type(node_type: str | None, wanted: str) -> bool:
    """FHIRPath ``is``/``ofType`` for an unqualified type name, as fhirpathpy decides it."""
    if node_type is None:
        return False
    if node_type.startswith("System."):  # System namespace: exact name only
        return node_type[7:] == wanted
    name: str | None = "BackboneElement" if "." in node_type else node_type
    while name:
        if name == wanted:
            return True
        name = _TYPE2PARENT.get(name) or _PATH2TYPE.get(name)
    return False


SYSTEM_TO_FHIR = {f"System.{k}": v for k, v in _SYSTEM_TO_FHIR.items()}
"""Node type -> the FHIR type name converters dispatch on (``System.String`` -> ``string``)."""


def infer_type(value) -> str | None:
    """Best guess of a value's FHIR type from its shape, when the evaluator lost it.

    fhirpathpy drops node types through nested unions (``(a | b).c``); converters
    then fall back on this. Unambiguous shapes only.
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if not isinstance(value, dict):
        return None
    if "coding" in value or set(value) <= {"text", "id", "extension"} and "text" in value:
        return "CodeableConcept"
    if "family" in value or "given" in value:
        return "HumanName"
    if "line" in value or "city" in value or "postalCode" in value:
        return "Address"
    if "reference" in value:
        return "Reference"
    if "start" in value or "end" in value:
        return "Period"
    if "event" in value or "repeat" in value:
        return "Timing"
    if "currency" in value:
        return "Money"
    if isinstance(value.get("value"), (int, float)) and not isinstance(value.get("value"), bool):
        return "Quantity"
    if "value" in value and "system" in value and value["system"] in _CONTACT_SYSTEMS:
        return "ContactPoint"
    if "value" in value:
        return "Identifier"
    if "code" in value or "system" in value:
        return "Coding"
    return None


_CONTACT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
