"""Write-time search index extraction: resource -> typed index rows.

For each search parameter of the resource's type (``SearchRegistry.for_type``), the
parameter's FHIRPath expression selects elements, and the module for the parameter's
type (string.py, token.py, date.py, number.py, quantity.py, reference.py, uri.py)
turns each element into rows per http://hl7.org/fhir/R4/search.html. Composite
parameters become component rows sharing an instance number (composite.py); ``_text``
and ``_content`` one word row each (text.py). Token expressions that select a ``code``
element with a single-system required binding index that system too (bound.py).

Expressions are evaluated by the fast path (``fastpath.py``, direct dict traversal)
when they fit its subset, else by fhirpathpy (``fallback.py``); each expression is
compiled once per process. Not indexed: ``near`` (Location.position) and ``_query``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable

from server.search.extract import date, number, quantity, reference, string, token, uri
from server.search.extract.bound import branch_systems
from server.search.extract.composite import compile_composite, indexed_as
from server.search.extract.fallback import compile_fallback
from server.search.extract.fastpath import compile_fast
from server.search.extract.model import SYSTEM_TO_FHIR
from server.search.extract.text import SPECIAL
from server.search.index_rows import IndexRow
from server.search.registry import SearchRegistry

log = logging.getLogger(__name__)

CONVERTERS: dict[str, Callable[[str, str | None, object], list]] = {
    "string": string.rows,
    "token": token.rows,
    "date": date.rows,
    "number": number.rows,
    "quantity": quantity.rows,
    "reference": reference.rows,
    "uri": uri.rows,
}

Evaluator = Callable[[dict], list[tuple[str | None, object]]]
_EVALUATORS: dict[str, Evaluator] = {}


def evaluator(expression: str, *, fast: bool = True) -> Evaluator:
    """The compiled evaluator for ``expression`` (fast path when possible)."""
    if not fast:
        return compile_fallback(expression)
    found = _EVALUATORS.get(expression)
    if found is None:
        found = compile_fast(expression) or compile_fallback(expression)
        _EVALUATORS[expression] = found
    return found


def is_fast(expression: str) -> bool:
    return compile_fast(expression) is not None


Plan = list[tuple[str, str, Callable, Evaluator]]  # (code, expression, converter, evaluator)
RowMakers = list[tuple[str, str, Callable[[dict], list[IndexRow]]]]  # (code, expression, resource -> rows)
_PLANS: weakref.WeakKeyDictionary[SearchRegistry, dict[tuple[str, bool], tuple[int, Plan, RowMakers]]] = (
    weakref.WeakKeyDictionary()
)


def _token_entries(code: str, expression: str) -> list[tuple[str, Callable]]:
    """(expression, converter) pairs for a token parameter, bound systems applied.

    One entry when every ``code`` element it selects has the same bound system (or none
    has one); else one per union branch, each with its own system.
    """
    branches = branch_systems(expression)
    systems = {system for _, is_code, system in branches if is_code}
    if not systems or systems == {None}:
        return [(expression, token.rows)]
    if len(systems) == 1:
        return [(expression, token.bound_rows(systems.pop()))]
    return [(b, token.bound_rows(system) if system else token.rows) for b, _, system in branches]


def _plan(registry: SearchRegistry, resource_type: str, fast: bool) -> tuple[Plan, RowMakers]:
    """What to evaluate for a type, rebuilt only when the registry changes (``generation``)."""
    plans = _PLANS.setdefault(registry, {})
    cached = plans.get((resource_type, fast))
    if cached is not None and cached[0] == registry.generation:
        return cached[1], cached[2]
    generation = registry.generation
    plan: Plan = []
    makers: RowMakers = []
    for code, param in registry.for_type(resource_type).items():
        if param.type == "token" and param.expression:
            for expression, convert in _token_entries(code, param.expression):
                plan.append((code, expression, convert, evaluator(expression, fast=fast)))
        elif param.type in CONVERTERS and param.expression:
            plan.append((code, param.expression, CONVERTERS[param.type], evaluator(param.expression, fast=fast)))
        elif param.type == "composite":
            if indexed_as(registry, resource_type, param) != (code,):
                continue  # a union of other composites: their rows answer it
            rows = compile_composite(code, param, registry, CONVERTERS, _root, fast)
            if rows is not None:
                makers.append((code, param.expression or "", rows))
        elif code in SPECIAL and not param.expression:
            special = SPECIAL[code]
            makers.append((code, "", lambda resource, code=code, special=special: special(code, resource)))
    plans[(resource_type, fast)] = (generation, plan, makers)
    return plan, makers


def _root(expression: str, fast: bool) -> Evaluator:
    return evaluator(expression, fast=fast)


def _failed(code: str, expression: str, resource: dict) -> None:
    log.warning(
        "search index: expression failed",
        extra={"param": code, "expression": expression, "resource_type": resource.get("resourceType")},
        exc_info=True,
    )


def extract(resource: dict, registry: SearchRegistry, *, fast: bool = True) -> list[IndexRow]:
    """All index rows for ``resource``, deduplicated, in parameter order.

    ``fast=False`` evaluates every expression with fhirpathpy (tests, benchmarks).
    A parameter whose expression fails on this resource is logged and skipped: one bad
    runtime SearchParameter must not block writes.
    """
    rows: list[IndexRow] = []
    plan, makers = _plan(registry, resource.get("resourceType", ""), fast)
    for code, expression, convert, evaluate in plan:
        try:
            nodes = evaluate(resource)
        except Exception:
            _failed(code, expression, resource)
            continue
        for ntype, value in nodes:
            if value is not None:  # types as converters know them: System.String -> string
                rows.extend(convert(code, SYSTEM_TO_FHIR.get(ntype, ntype), value))
    for code, expression, make in makers:
        try:
            rows.extend(make(resource))
        except Exception:
            _failed(code, expression, resource)
    return list(dict.fromkeys(rows))
