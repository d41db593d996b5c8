"""_summary and _elements: shaping a resource before it is returned (R4 3.1.1.5.7-8).

Which elements are summary or mandatory comes from the R4 StructureDefinitions, through
``profiles.structure`` (the definitions validation and PATCH use). The spec marks
isSummary at every level, so ``_summary=true`` trims nested backbone elements and data
types too (``Patient.contact`` and a HumanName's ``extension`` are not summary); a
primitive's ``_name`` sibling (its id and extensions) goes with its value.
``_summary=text`` and ``_elements`` select top-level elements only.
"""

from __future__ import annotations

from profiles import structure
from profiles.structure import Element, Shape

from ..errors import BadRequest
from ..validation import known_resource_types

SUMMARY_VALUES = ("true", "text", "data", "count", "false")
_ALWAYS = ("resourceType", "id", "meta")
_SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}


def _shape_of(resource: dict) -> Shape | None:
    rtype = resource.get("resourceType")
    return structure.shape(rtype) if rtype in known_resource_types() else None


def _keep(resource: dict, names: set[str]) -> dict:
    """Top-level elements whose name is listed; a choice ``value[x]`` is listed as ``value``."""
    s = _shape_of(resource)
    elements = s.elements if s is not None else {}
    kept = {}
    for key, value in resource.items():
        base = key[1:] if key.startswith("_") else key  # primitive extensions go with their value
        el = elements.get(base)
        if key in _ALWAYS or base in names or (el is not None and el.choice and el.choice[:-3] in names):
            kept[key] = value
    return kept


def _summary(obj: dict, s: Shape) -> dict:
    """The isSummary elements of ``obj``, at every level."""
    out = {}
    elements = s.elements
    for key, value in obj.items():
        el = elements.get(key)
        if el is None:
            if key[:1] == "_":  # a primitive's id/extensions go with its value
                el = elements.get(key[1:])
                if el is not None and el.summary:
                    out[key] = value
            elif key == "resourceType":
                out[key] = value
            continue
        if not el.summary:
            continue
        if el.check is not None:  # a primitive
            out[key] = value
        elif type(value) is list:
            items = [v for v in (_summary_value(item, el) for item in value) if v != {}]
            if items:
                out[key] = items
        else:
            item = _summary_value(value, el)
            if item != {}:  # nothing summary left in it: omitted (no empty elements, ele-1)
                out[key] = item
    return out


def _summary_value(value: object, el: Element) -> object:
    if type(value) is not dict:
        return value
    if el.shape is not None:
        return _summary(value, el.shape)
    s = _shape_of(value)  # a Resource element (Bundle.entry.resource): its own type
    return _summary(value, s) if s is not None else value


def _mark_subsetted(resource: dict) -> dict:
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    meta["tag"] = [*tags, _SUBSETTED]
    return {**resource, "meta": meta}


def shape(resource: dict, summary: str | None = None, elements: str | None = None) -> dict:
    if summary in (None, "false") and not elements:
        return resource
    if summary and summary not in SUMMARY_VALUES:
        raise BadRequest(f"_summary must be one of {', '.join(SUMMARY_VALUES)}", expression="_summary")
    if summary == "count" and not elements:
        raise BadRequest("_summary=count applies to a search, not to a single resource", expression="_summary")
    if summary == "data":
        shaped = {k: v for k, v in resource.items() if k not in ("text", "_text")}
    elif summary == "true":
        s = _shape_of(resource)
        shaped = _summary(resource, s) if s is not None else _keep(resource, set())
    elif summary == "text":
        s = _shape_of(resource)
        mandatory = {name.removesuffix("[x]") for name, _ in s.required} if s is not None else set()
        shaped = _keep(resource, {"text", *mandatory})
    else:
        names = {n.strip().split(".")[-1] for n in elements.split(",") if n.strip()}
        shaped = _keep(resource, names)
    return _mark_subsetted(shaped)
