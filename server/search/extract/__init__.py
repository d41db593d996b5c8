"""Write-time search index extraction: resource -> typed index rows.

For each search parameter of the resource's type (``SearchRegistry.for_type``), the
parameter's FHIRPath expression selects elements, and the module for the parameter's
type (string.py, token.py, date.py, number.py, quantity.py, reference.py, uri.py)
turns each element into rows per http://hl7.org/fhir/R4/search.html.

Expressions are evaluated by the fast path (``fastpath.py``, direct dict traversal)
when they fit its subset, else by fhirpathpy (``fallback.py``); each expression is
compiled once per process. Composite and special parameters (``near``, ``_text``,
``_content``) are not indexed yet.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable

from server.search.extract import date, number, quantity, reference, string, token, uri
from server.search.extract.fallback import compile_fallback
from server.search.extract.fastpath import compile_fast
from server.search.extract.model import SYSTEM_TO_FHIR
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
_PLANS: weakref.WeakKeyDictionary[SearchRegistry, dict[tuple[str, bool], tuple[int, Plan]]] = (
    weakref.WeakKeyDictionary()
)


def _plan(registry: SearchRegistry, resource_type: str, fast: bool) -> Plan:
    """What to evaluate for a type, rebuilt only when the registry changes (``generation``)."""
    plans = _PLANS.setdefault(registry, {})
    cached = plans.get((resource_type, fast))
    if cached is not None and cached[0] == registry.generation:
        return cached[1]
    generation = registry.generation
    plan = [
        (code, param.expression, CONVERTERS[param.type], evaluator(param.expression, fast=fast))
        for code, param in registry.for_type(resource_type).items()
        if param.type in CONVERTERS and param.expression  # composite, special: not yet
    ]
    plans[(resource_type, fast)] = (generation, plan)
    return plan


def extract(resource: dict, registry: SearchRegistry, *, fast: bool = True) -> list[IndexRow]:
    """All index rows for ``resource``, deduplicated, in parameter order.

    ``fast=False`` evaluates every expression with fhirpathpy (tests, benchmarks).
    A parameter whose expression fails on this resource is logged and skipped: one bad
    runtime SearchParameter must not block writes.
    """
    rows: list[IndexRow] = []
    for code, expression, convert, evaluate in _plan(registry, resource.get("resourceType", ""), fast):
        try:
            nodes = evaluate(resource)
        except Exception:
            log.warning(
                "search index: expression failed",
                extra={"param": code, "expression": expression, "resource_type": resource.get("resourceType")},
                exc_info=True,
            )
            continue
        for ntype, value in nodes:
            if value is not None:  # types as converters know them: System.String -> string
                rows.extend(convert(code, SYSTEM_TO_FHIR.get(ntype, ntype), value))
    return list(dict.fromkeys(rows))
