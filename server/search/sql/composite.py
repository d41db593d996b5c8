"""Composite parameters: every component matched on the same element (R4 §3.1.1.4.11).

``code-value-quantity=http://loinc.org|8480-6$gt100``: the first component's rows
(param ``<code>$0``) drive; each further component is an EXISTS on its own table with
the same ``pid`` and ``instance`` (the element number extraction gave all of one
element's component rows, see ``server.search.index_rows``). So
``component-code-value-quantity`` never pairs one component's code with another's value.
Component values take their type's syntax and prefixes (``$gt100``); no modifiers.
A composite that is a union of others (``combo-code-value-quantity``) has no rows of its
own and reads theirs (``Criterion.composites``).
"""

from __future__ import annotations

from sqlalchemy import exists, literal, select

from server.search.index_rows import component_param
from server.search.parse import Criterion
from server.search.parse_values import CompositeValue
from server.search.sql import date, number, quantity, reference, string, token, uri
from server.search.sql.common import Scope, all_of, any_of, has_row, index_alias

PREDICATES = {
    "string": string.predicate,
    "token": token.token_predicate,
    "date": lambda t, v: date.range_predicate(t.c.low, t.c.high, v),
    "number": number.value_predicate,
    "quantity": quantity.predicate,
    "reference": reference.predicate,
    "uri": uri.predicate,
}


def _same_element(first, code: str, index: int, kind: str, value):
    """Some row of component ``index`` on the element ``first`` (a row of component 0) is on."""
    t = index_alias(kind)
    where = [
        t.c.pid == first.c.pid,
        t.c.param == component_param(code, index),
        t.c.instance == first.c.instance,
        PREDICATES[kind](t, value),
    ]
    return exists(select(literal(1)).select_from(t).where(*where).correlate(first))


def _predicate(first, code: str, value: CompositeValue):
    (kind, head), *rest = value.parts
    return all_of(
        PREDICATES[kind](first, head),
        *(_same_element(first, code, i, k, v) for i, (k, v) in enumerate(rest, start=1)),
    )


def condition(crit: Criterion, scope: Scope):
    conds = []
    for code in crit.composites or (crit.code,):  # combo-*: the composites it is the union of
        first = index_alias(crit.values[0].parts[0][0])
        preds = [_predicate(first, code, v) for v in crit.values]
        conds.append(has_row(first, scope, component_param(code, 0), any_of(preds)))
    return any_of(conds)
