"""Composite parameters -> component rows that share an instance number.

A composite (http://hl7.org/fhir/R4/search.html#composite) pairs values that must come
from the same element: ``component-code-value-quantity=loinc|8480-6$gt100`` asks for
one ``Observation.component`` with that code *and* that value, not a systolic code in
one component and a value above 100 in another. So the composite's expression selects
elements (``Observation.component``), each component expression runs on each element,
and every row gets param ``<code>$<component index>`` and ``instance`` = the element's
number; an element missing a component gives no rows. The rows go to the ordinary
idx_* table of the component's type (see ``server.search.index_rows``).

Component types come from the component's SearchParameter (``component.definition``);
a composite whose definitions are unknown is not indexed. ``%resource.x`` (used by the
MolecularSequence coordinates) reads from the resource rather than the element.

A composite whose expression is the union of other composites' expressions, with the
same components, gets no rows of its own: ``indexed_as`` names the composites whose
rows answer it (R4's ``combo-code-value-quantity`` is ``code-value-quantity`` |
``component-code-value-quantity``), and the query side reads those.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from server.search.extract import token
from server.search.extract.bound import branch_systems
from server.search.extract.fallback import compile_fallback
from server.search.extract.fastpath import compile_fast_nodes
from server.search.extract.model import SYSTEM_TO_FHIR
from server.search.index_rows import IndexRow, component_param
from server.search.registry import SearchParamDef, split_union

Node = tuple[str | None, object]
NodeEvaluator = Callable[[dict, str | None, object], list[Node]]

# R4 technical errata: DocumentReference-relationship gives each component the other's
# expression (the reference component reads ``code``, the token one ``target``), so as
# published it can never match; R4B and R5 swap them back, and so do we.
ERRATA: dict[str, dict[int, str]] = {
    "http://hl7.org/fhir/SearchParameter/DocumentReference-relationship": {0: "target", 1: "code"},
}
RESOURCE_VAR = "%resource."


def _signature(registry, param: SearchParamDef) -> tuple[tuple[str, str], ...] | None:
    """What a composite indexes per element: (type, expression) of each component."""
    errata = ERRATA.get(param.url, {})
    parts = []
    for i, (definition, expression) in enumerate(param.component):
        target = registry.by_url(definition)
        if target is None:
            return None
        parts.append((target.type, errata.get(i, expression)))
    return tuple(parts)


def _bare(expression: str) -> str:
    return "".join(expression.split()).removeprefix("(").removesuffix(")")


def indexed_as(registry, resource_type: str, param: SearchParamDef) -> tuple[str, ...]:
    """The composite codes whose rows answer ``param`` on ``resource_type``: its own, or
    those of the composites its union branches are (same components, element by element)."""
    branches = split_union(param.expression or "")
    signature = _signature(registry, param) if len(branches) > 1 else None
    if signature is None:
        return (param.code,)
    others = {
        _bare(other.expression): code
        for code, other in registry.for_type(resource_type).items()
        if other.type == "composite" and code != param.code and other.expression
        and len(split_union(other.expression)) == 1 and _signature(registry, other) == signature
    }
    codes = tuple(others.get(_bare(b)) for b in branches)
    return codes if all(codes) else (param.code,)


def _node_evaluator(expression: str, fast: bool, root: Callable[[str, bool], Callable]) -> NodeEvaluator:
    """``expression`` evaluated on one selected element (``node_type``, ``value``)."""
    if expression.startswith(RESOURCE_VAR):
        rest = expression[len(RESOURCE_VAR):]
        return lambda resource, _t, _v: root(f"{resource.get('resourceType')}.{rest}", fast)(resource)
    run = compile_fast_nodes(expression) if fast else None
    if run is not None:
        return lambda _resource, node_type, value: run([(node_type, value)])
    slow = compile_fallback(expression)
    return lambda _resource, node_type, value: slow(value, node_type)


@lru_cache(maxsize=1024)
def _token_converter(node_type: str | None, expression: str) -> Callable:
    """Token components on a ``code`` element get its bound system too (see ``bound.py``)."""
    if node_type and not expression.startswith(RESOURCE_VAR):
        systems = {s for _, is_code, s in branch_systems(f"{node_type}.{expression}") if is_code}
        if len(systems) == 1 and None not in systems:
            return token.bound_rows(systems.pop())
    return token.rows


def compile_composite(
    code: str,
    param: SearchParamDef,
    registry,
    converters: dict[str, Callable],
    root: Callable[[str, bool], Callable],
    fast: bool,
) -> Callable[[dict], list[IndexRow]] | None:
    """A function resource -> the composite's component rows; None if it cannot be indexed.

    ``root(expression, fast)`` is the resource-level evaluator factory (``extract.evaluator``).
    """
    if not param.expression or not param.component:
        return None
    errata = ERRATA.get(param.url, {})
    components = []
    for i, (definition, expression) in enumerate(param.component):
        target = registry.by_url(definition)
        if target is None or target.type not in converters:
            return None
        expression = errata.get(i, expression)
        components.append((component_param(code, i), target.type, expression, _node_evaluator(expression, fast, root)))
    select = root(param.expression, fast)

    def rows(resource: dict) -> list[IndexRow]:
        out: list[IndexRow] = []
        for instance, (node_type, value) in enumerate(select(resource)):
            # Select every component's nodes before converting any: most elements lack
            # one (an Observation has one value type), and conversion is the dear part.
            selected = [evaluate(resource, node_type, value) for _, _, _, evaluate in components]
            if not all(selected):
                continue
            found: list[IndexRow] = []
            for (pcode, ptype, expression, _), nodes in zip(components, selected):
                convert = _token_converter(node_type, expression) if ptype == "token" else converters[ptype]
                part = [
                    _numbered(row, instance)
                    for ntype, item in nodes
                    if item is not None
                    for row in convert(pcode, SYSTEM_TO_FHIR.get(ntype, ntype), item)
                    if row.param == pcode  # not the derived :of-type / :identifier rows
                ]
                if not part:
                    break
                found += part
            else:
                out += found
        return out

    return rows


def _numbered(row: IndexRow, instance: int) -> IndexRow:
    # The converter just built ``row`` and nobody else holds it: setting the field in
    # place is safe, and several times cheaper than dataclasses.replace on a hot path.
    object.__setattr__(row, "instance", instance)
    return row
