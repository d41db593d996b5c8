"""What FHIRPath Patch needs to know about element definitions.

JSON alone cannot say whether a missing element repeats (``Patient.contact`` must be
written as an array even when the patch adds the first one), nor which JSON key a
choice element uses (``deceased`` -> ``deceasedBoolean``). The fhir.resources models
already carry both facts, and the server validates writes with the same models, so we
read them from there rather than from a second copy of the definitions.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import lru_cache

from fhir.resources.R4B import get_fhir_model_class

Model = type  # a fhir.resources (pydantic) model class


@dataclass(frozen=True)
class Element:
    key: str  # JSON property name, e.g. "deceasedBoolean"
    repeating: bool  # max cardinality > 1: always a JSON array
    model: Model | None  # complex type's model; None for primitives
    choice: str | None = None  # a choice element's base name ("deceased")...
    choice_keys: tuple[str, ...] = ()  # ...and the keys of all its types


def model_named(type_name: str) -> Model | None:
    try:
        return get_fhir_model_class(type_name)
    except (ValueError, KeyError):
        return None


def model_of(value: object, model: Model | None) -> Model | None:
    """The model for a JSON node: a (contained) resource names its own type."""
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return model_named(value["resourceType"])
    return model


def child(model: Model, name: str, type_name: str | None = None) -> Element | None:
    """The definition of ``name`` under ``model``; None if the model has no such element.

    ``name`` may also be a choice element's base name (``deceased``); the key is then
    picked by ``type_name``, the type the patch value declares (``valueBoolean``).
    """
    fields = _elements(model)
    if name in fields:
        return fields[name]
    key = _typed(name, type_name or "")
    return fields[key] if type_name and key in choice_keys(model, name) else None


def choice_keys(model: Model, name: str) -> list[str]:
    """JSON keys of the choice element ``name[x]`` (empty if it is not a choice)."""
    return _choices(model).get(name, [])


@lru_cache(maxsize=None)
def _elements(model: Model) -> dict[str, Element]:
    out = {}
    choices = _choices(model)
    for field in model.model_fields.values():
        key = field.alias or ""
        # "_birthDate" holders and XML comments are not elements of their own
        if not key or key.startswith("_") or key == "fhir_comments":
            continue
        repeating, model_ = _shape(field.annotation)
        choice = (field.json_schema_extra or {}).get("one_of_many")
        out[key] = Element(key, repeating, model_, choice, tuple(choices.get(choice, ())))
    return out


@lru_cache(maxsize=None)
def _choices(model: Model) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field in model.model_fields.values():
        base = (field.json_schema_extra or {}).get("one_of_many")
        if base and field.alias:
            out.setdefault(base, []).append(field.alias)
    return out


def _shape(annotation) -> tuple[bool, Model | None]:
    """(repeating, complex model) from an annotation like Optional[List[abc.HumanNameType]]."""
    inner = _strip_optional(annotation)
    repeating = typing.get_origin(inner) is list
    if repeating:
        inner = _strip_optional(typing.get_args(inner)[0])
    get_model = getattr(inner, "get_model_klass", None)  # fhir.resources' abc.XType
    return repeating, (get_model() if get_model else None)


def _strip_optional(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return args[0] if len(args) == 1 else annotation
    return annotation


def _typed(base: str, type_name: str) -> str:
    return base + type_name[:1].upper() + type_name[1:]
