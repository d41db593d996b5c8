"""What FHIRPath Patch needs to know about element definitions.

JSON alone cannot say whether a missing element repeats (``Patient.contact`` must be
written as an array even when the patch adds the first one), nor which JSON key a
choice element uses (``deceased`` -> ``deceasedBoolean``). Both facts come from the
official R4 StructureDefinitions, through the shapes ``profiles.structure`` compiles for
validation: a patch and the validation of its result read the same definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from profiles import structure
from profiles.structure import Shape

from ..validation import known_resource_types


@dataclass(frozen=True, slots=True)
class Element:
    key: str  # JSON property name, e.g. "deceasedBoolean"
    repeating: bool  # max cardinality > 1: always a JSON array
    type: str  # FHIR type code, e.g. "boolean", "HumanName", "BackboneElement", "Resource"
    shape: Shape | None  # the complex type's shape; None for primitives
    choice: str | None = None  # a choice element's base name ("deceased")...
    choice_keys: tuple[str, ...] = ()  # ...and the keys of all its types


def shape_named(type_name: str) -> Shape | None:
    """The shape of an R4 resource or data type; None if R4 has no such type."""
    try:
        return structure.shape(type_name)
    except KeyError:
        return None


def shape_of(value: object, shape: Shape | None) -> Shape | None:
    """The shape for a JSON node: a (contained) resource names its own type."""
    if isinstance(value, dict):
        resource_type = value.get("resourceType")
        if isinstance(resource_type, str):
            return structure.shape(resource_type) if resource_type in known_resource_types() else None
    return shape


def child(shape: Shape, name: str, type_name: str | None = None) -> Element | None:
    """The definition of ``name`` under ``shape``; None if it has no such element.

    ``name`` may also be a choice element's base name (``deceased``); the key is then
    picked by ``type_name``, the type the patch value declares (``valueBoolean``).
    """
    fields = _elements(shape)
    found = fields.get(name)
    if found is not None or not type_name:
        return found
    found = fields.get(name + type_name[:1].upper() + type_name[1:])
    return found if found is not None and found.choice == name else None


def choice_keys(shape: Shape, name: str) -> tuple[str, ...]:
    """JSON keys of the choice element ``name[x]`` (empty if it is not a choice)."""
    return _choices(shape).get(name, ())


@cache
def _elements(shape: Shape) -> dict[str, Element]:
    choices = _choices(shape)
    out = {}
    for key, el in shape.elements.items():
        if el.check is not None:  # a primitive
            content = None
        elif el.type == "Resource":  # refined by the value's resourceType (shape_of)
            content = structure.shape("Resource")
        else:
            content = el.shape
        base = el.choice.removesuffix("[x]") if el.choice else None
        out[key] = Element(key, el.array, el.type, content, base, choices.get(base, ()))
    return out


@cache
def _choices(shape: Shape) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, el in shape.elements.items():
        if el.choice:
            base = el.choice.removesuffix("[x]")
            out[base] = (*out.get(base, ()), key)
    return out
