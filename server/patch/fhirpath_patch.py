"""FHIRPath Patch (http://hl7.org/fhir/R4/fhirpatch.html) applied to FHIR JSON.

The patch is a Parameters resource; each ``operation`` parameter has parts ``type``
(add | insert | delete | replace | move), ``path`` (FHIRPath), and per type ``name``,
``value``, ``index``, ``source``, ``destination``. Operations apply in order, each to the
result of the previous one.

A malformed Parameters document is a BadRequest; a well-formed operation that cannot
apply to this resource (path matches nothing or too much, index out of range, wrong
kind of value) is Unprocessable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.errors import BadRequest, Unprocessable

from . import elements, tree
from .elements import Element, Shape
from .locate import Location, PathEvaluationError, PathSyntaxError, json_key, locate, member_step, parse

REQUIRED_PARTS = {
    "add": ("path", "name", "value"),
    "insert": ("path", "index", "value"),
    "delete": ("path",),
    "replace": ("path", "value"),
    "move": ("path", "source", "destination"),
}
PARTS = ("type", "path", "name", "value", "index", "source", "destination")
# Quantity and its profiles: a valueQuantity may fill an Age, a valueAge a Quantity...
QUANTITIES = {"Quantity", "Age", "Count", "Distance", "Duration", "MoneyQuantity", "SimpleQuantity"}


@dataclass(frozen=True)
class Value:
    """A patch value: ``value[x]`` (with its ``_value[x]`` holder), or anonymous ``part``s."""

    type: str | None  # from the value[x] key: "Date", "HumanName"; None for parts
    json: Any = None
    holder: dict | None = None  # id/extension of a primitive value
    parts: list | None = None  # for types Parameters cannot carry (e.g. Patient.contact)


@dataclass(frozen=True)
class Operation:
    where: str  # "Parameters.parameter[0]", to name it in errors
    type: str
    path: str
    parsed: dict  # the path's syntax tree
    name: str | None = None
    value: Value | None = None
    index: int | None = None
    source: int | None = None
    destination: int | None = None


def apply_fhirpath_patch(resource: dict, parameters: dict) -> dict:
    operations = parse_parameters(parameters)
    result = tree.copy_json(resource)
    for op in operations:
        try:
            APPLY[op.type](result, op, locate(result, op.parsed))
        except PathEvaluationError as exc:
            raise _cannot(op, f"cannot evaluate the path: {exc}") from exc
    tree.prune(result)
    return result


# --- reading the Parameters resource ---------------------------------------------


def parse_parameters(parameters: dict) -> list[Operation]:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise _malformed("Parameters", "a FHIRPath Patch must be a Parameters resource")
    params = parameters.get("parameter", [])
    if not isinstance(params, list):
        raise _malformed("Parameters.parameter", "must be an array")
    return [_operation(f"Parameters.parameter[{i}]", p) for i, p in enumerate(params)]


def _operation(where: str, param: Any) -> Operation:
    if not isinstance(param, dict) or param.get("name") != "operation":
        raise _malformed(where, "each parameter must be named 'operation'")
    parts: dict[str, dict] = {}
    for i, part in enumerate(param.get("part") or []):
        name = part.get("name") if isinstance(part, dict) else None
        if name not in PARTS:
            expected = ", ".join(PARTS)
            raise _malformed(f"{where}.part[{i}]", f"unknown part {name!r}; expected one of {expected}")
        if name in parts:
            raise _malformed(f"{where}.part[{i}]", f"part {name!r} is given twice")
        parts[name] = part
    op_type = _primitive(where, parts, "type", str)
    if op_type not in REQUIRED_PARTS:
        raise _malformed(where, f"type must be one of {', '.join(REQUIRED_PARTS)}, not {op_type!r}")
    missing = [p for p in REQUIRED_PARTS[op_type] if p not in parts]
    if missing:
        raise _malformed(where, f"{op_type} needs part(s) {', '.join(missing)}")
    path = _primitive(where, parts, "path", str)
    try:
        parsed = parse(path)
    except PathSyntaxError as exc:
        raise _malformed(f"{where}.part:path", f"invalid FHIRPath {path!r}: {exc}") from exc
    return Operation(
        where=where,
        type=op_type,
        path=path,
        parsed=parsed,
        name=_primitive(where, parts, "name", str),
        value=_value(f"{where}.part:value", parts["value"]) if "value" in parts else None,
        index=_primitive(where, parts, "index", int),
        source=_primitive(where, parts, "source", int),
        destination=_primitive(where, parts, "destination", int),
    )


def _primitive(where: str, parts: dict, name: str, kind: type) -> Any:
    """The value of part ``name`` (any value[x] of the right JSON kind), or None."""
    if name not in parts:
        return None
    value = _value(f"{where}.part:{name}", parts[name])
    # bool is an int in Python; a valueBoolean is no index
    if not isinstance(value.json, kind) or isinstance(value.json, bool):
        raise _malformed(f"{where}.part:{name}", f"{name} must be a {kind.__name__} value")
    if kind is int and value.json < 0:
        raise _malformed(f"{where}.part:{name}", f"{name} must not be negative")
    return value.json


def _value(where: str, part: dict) -> Value:
    keys = [k for k in part if k.startswith("value")]
    holder_keys = [k for k in part if k.startswith("_value")]
    if len(keys) > 1 or len(holder_keys) > 1:
        raise _malformed(where, "a part has a single value[x]")
    if "part" in part:
        if keys or holder_keys:
            raise _malformed(where, "a part has either a value[x] or parts, not both")
        if not isinstance(part["part"], list) or not part["part"]:
            raise _malformed(where, "part must be a non-empty array")
        return Value(type=None, parts=part["part"])
    key = (keys or [k[1:] for k in holder_keys] or [None])[0]
    if key is None or len(key) <= len("value"):
        raise _malformed(where, "a value[x] (or parts) is required")
    holder = part.get("_" + key)
    if holder is not None and not isinstance(holder, dict):
        raise _malformed(where, f"_{key} must be an object")
    return Value(type=key[len("value") :], json=part.get(key), holder=holder)


# --- the operations ------------------------------------------------------------------


def _add(resource: dict, op: Operation, targets: list[Location]) -> None:
    target = _single(op, targets, "adding")
    container, shape = target.value, target.shape
    if not isinstance(container, dict):
        # a primitive's id and extensions are kept in its "_key" holder
        if op.name not in ("id", "extension") or target.parent is None:
            raise _cannot(op, f"{op.path} is a primitive: only id or extension can be added to it")
        container, shape = target.extension_holder(create=True), elements.shape_named("Element")
    element = _child(op, shape, op.name, op.value)
    key = element.key if element else op.name
    value, holder = _materialize(op, op.value, element)
    if element.repeating if element else isinstance(container.get(key), list):
        tree.insert(container, key, len(container.get(key) or []), value, holder)
        return
    present = element.choice_keys if element and element.choice else (key,)
    if any(k in container or "_" + k in container for k in present):
        raise _cannot(op, f"{op.path}.{op.name} already has a value: use replace, not add")
    tree.put(container, key, value, holder)


def _insert(resource: dict, op: Operation, targets: list[Location]) -> None:
    container, key, element = _collection(resource, op, targets)
    count = len(container.get(key) or [])
    if op.index > count:
        raise _cannot(op, f"index {op.index} is out of range: {op.path} has {count} item(s)")
    value, holder = _materialize(op, op.value, element)
    tree.insert(container, key, op.index, value, holder)


def _delete(resource: dict, op: Operation, targets: list[Location]) -> None:
    if not targets:
        return  # "Path of the element to delete (if found)": nothing to do
    if len(targets) > 1:
        raise _cannot(op, f"{op.path} matches {len(targets)} elements; only one can be deleted")
    if targets[0].parent is None:
        raise _cannot(op, "the resource itself cannot be deleted by a patch")
    tree.remove(targets[0])


def _replace(resource: dict, op: Operation, targets: list[Location]) -> None:
    target = _single(op, targets, "replacing")
    if target.parent is None:
        raise _cannot(op, "the resource itself cannot be replaced by a patch")
    element = target.element
    if element and element.choice and op.value.type:  # value[x]: the key follows the type
        element = _child(op, target.owner, element.choice, op.value)
    value, holder = _materialize(op, op.value, element)
    tree.set_value(target, value, holder, element.key if element else target.key)


def _move(resource: dict, op: Operation, targets: list[Location]) -> None:
    container, key, _ = _collection(resource, op, targets)
    count = len(container.get(key) or [])
    for part, index in (("source", op.source), ("destination", op.destination)):
        if index >= count:
            raise _cannot(op, f"{part} {index} is out of range: {op.path} has {count} item(s)")
    value, holder = tree.pop(container, key, op.source)
    tree.insert(container, key, op.destination, value, holder)


APPLY = {"add": _add, "insert": _insert, "delete": _delete, "replace": _replace, "move": _move}


# --- helpers ---------------------------------------------------------------------


def _single(op: Operation, targets: list[Location], doing: str) -> Location:
    if not targets:
        raise _cannot(op, f"No content found at {op.path} when {doing}")
    if len(targets) > 1:
        raise _cannot(op, f"{op.path} matches {len(targets)} elements; it must match exactly one")
    return targets[0]


def _collection(
    resource: dict, op: Operation, targets: list[Location]
) -> tuple[dict, str, Element | None]:
    """The list ``op.path`` names, as (object holding it, key, definition)."""
    step = member_step(resource, op.parsed)
    if step is not None:  # "X.name": found through X, so an absent list works too
        parents, name = step
        parent = _single(op, [p for p in parents if isinstance(p.value, dict)], "looking for it")
        element = _child(op, parent.shape, name, None)
        key = json_key(parent.value, name, parent.shape) or (element.key if element else name)
        present = parent.value.get(key)
        if (element and not element.repeating) or not isinstance(present, (list, type(None))):
            raise _cannot(op, f"{op.path} is not a list")
        return parent.value, key, element
    slots = {(id(t.parent), t.key) for t in targets}
    if len(slots) != 1 or targets[0].index is None:
        raise _cannot(op, f"{op.path} must name exactly one list")
    return targets[0].parent, targets[0].key, targets[0].element


def _child(op: Operation, shape: Shape | None, name: str, value: Value | None) -> Element | None:
    """The definition of element ``name`` under ``shape`` (None when the type is unknown)."""
    if shape is None:
        return None
    type_name = value.type if value else None
    element = elements.child(shape, name, type_name)
    if element is None:
        of_type = f" of type {type_name}" if type_name else ""
        raise _cannot(op, f"{shape.name} has no element {name!r}{of_type}")
    return element


def _materialize(op: Operation, value: Value, element: Element | None) -> tuple[Any, dict | None]:
    """The JSON for ``value`` placed at ``element``: (value, primitive holder)."""
    if value.parts is None:
        _check_kind(op, value, element)
        return tree.copy_json(value.json), tree.copy_json(value.holder)
    if element is not None and element.shape is None:
        raise _cannot(op, f"{element.key} is a primitive: give a value[x], not parts")
    return _build(op, value.parts, element.shape if element else None), None


def _build(op: Operation, parts: list, shape: Shape | None) -> dict:
    """A complex value from parts: each part is one element (name + value[x] or parts)."""
    out: dict = {}
    for i, part in enumerate(parts):
        where = f"{op.where}.part:value.part[{i}]"
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise _malformed(where, "each part needs a name")
        value = _value(where, part)
        element = _child(op, shape, part["name"], value)
        key = element.key if element else part["name"]
        json, holder = _materialize(op, value, element)
        if element.repeating if element else key in out:  # unknown type: repeats make a list
            if not isinstance(out.get(key, []), list):
                out[key] = [out[key]]
            tree.insert(out, key, len(out.get(key, [])), json, holder)
        elif key in out:
            raise _cannot(op, f"{key} does not repeat but is given twice in {where}")
        else:
            tree.put(out, key, json, holder)
    return out


def _check_kind(op: Operation, value: Value, element: Element | None) -> None:
    """The value must be of the element's type: primitive vs complex, and which complex."""
    if element is None:
        return
    is_complex = isinstance(value.json, dict)
    if element.shape is None and is_complex:
        raise _cannot(op, f"{element.key} is a primitive; a value{value.type} cannot go there")
    if element.shape is not None and not is_complex:
        raise _cannot(op, f"{element.key} is a {element.type}; a value{value.type} cannot go there")
    # A backbone element (or a resource) has no value[x] type: it is given as parts.
    if is_complex and value.type != element.type and not {value.type, element.type} <= QUANTITIES:
        raise _cannot(op, f"{element.key} is a {element.type}; a value{value.type} cannot go there")


def _malformed(where: str, message: str) -> BadRequest:
    return BadRequest(f"Invalid FHIRPath Patch at {where}: {message}", expression=[where])


def _cannot(op: Operation, message: str) -> Unprocessable:
    return Unprocessable(
        f"FHIRPath Patch {op.where} ({op.type} at '{op.path}'): {message}", expression=[op.path]
    )
