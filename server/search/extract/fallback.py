"""The general evaluator: fhirpathpy, for expressions the fast path does not compile.

What makes fhirpathpy usable for indexing:
- ``returnRawData`` keeps its typed nodes, so converters know a Coding from an
  Identifier; but ``|`` rebuilds nodes without types, so top-level unions are split
  and each branch evaluated on its own (we deduplicate rows anyway);
- ``resolve()`` is not implemented by fhirpathpy: we supply one that only knows a
  reference's target type (all ``where(resolve() is Patient)`` needs);
- ``ofType``/``is`` read a class-level model that fhirpathpy only sets inside
  ``is``/``as``: we set it before each call so that results do not depend on which
  expression happened to run first;
- R4's expressions use ``as`` on choice elements of repeating parents
  (``Questionnaire.useContext.value as CodeableConcept``), where fhirpathpy raises on
  more than one item; we read ``x as T`` and ``x.as(T)`` as ``x.ofType(T)``, as the
  fast path, HAPI FHIR and the later FHIR versions' expressions do;
- fhirpathpy makes a primitive's ``_x`` sibling (its extensions) a node of its own,
  typed as the primitive, beside the value's node: we drop those from results, so that
  extraction indexes each primitive value once and extension-only primitives not at
  all, as the fast path does. Inside an expression fhirpathpy still sees two nodes
  (``where(family='X')`` misses a family with a ``_family``; ``fastpath.py`` does not).

fhirpathpy keeps per-call state in globals: do not call it from several threads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode, TypeInfo

from server.search.extract.model import R4, is_primitive
from server.search.extract.reference import target_type
from server.search.registry import split_union

Node = tuple[str | None, object]  # (type name, JSON value)


def _resolve(references: list) -> list:
    return [ResourceNode.create_node({"resourceType": t}) for r in references if (t := target_type(r))]


_OPTIONS = {"returnRawData": True, "userInvocationTable": {"resolve": {"fn": _resolve, "arity": {0: []}}}}


def _system_type(value) -> str | None:
    # Results that are not element nodes (``exists() and ...`` gives a bare bool).
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, Decimal)):
        return "decimal"
    return None


_AS_FUNCTION = re.compile(r"\.as\((\w+)\)")
_AS_OPERATOR = re.compile(r"^(\(?)\s*([A-Za-z_][\w.]*)\s+as\s+(\w+)\s*(\)?)((?:\.\w+)*)$")


def lenient_as(branch: str) -> str:
    """``(A.b as T).c`` / ``A.b.as(T)`` -> ``A.b.ofType(T)...``: the shapes R4's expressions use."""
    branch = _AS_FUNCTION.sub(r".ofType(\1)", branch)
    match = _AS_OPERATOR.match(branch)
    if match and bool(match.group(1)) == bool(match.group(4)) and (match.group(1) or not match.group(5)):
        return f"{match.group(1)}{match.group(2)}.ofType({match.group(3)}){match.group(4)}{match.group(5)}"
    return branch


@lru_cache(maxsize=4096)
def compile_fallback(expression: str) -> Callable[[dict], list[Node]]:
    """Compile ``expression`` once with fhirpathpy; the result maps a resource to typed nodes."""
    branches = [fhirpathpy.compile(lenient_as(branch), R4, _OPTIONS) for branch in split_union(expression)]

    def evaluate(resource: dict, node_type: str | None = None) -> list[Node]:
        """``node_type``: evaluate on an element of that type (a backbone path such as
        ``Observation.component``), not on a resource."""
        root = ResourceNode.create_node(resource, node_type) if node_type else resource
        out: list[Node] = []
        for branch in branches:
            TypeInfo.model = R4
            for node in branch(root, {}):
                if isinstance(node, ResourceNode):
                    if type(node.data) is dict and node.path and is_primitive(node.path):
                        continue  # a "_x" object fhirpathpy made a node of its own: no value
                    out.append((node.path, node.data))
                elif (kind := _system_type(node)) is not None:
                    out.append((kind, node))
        return out

    return evaluate
