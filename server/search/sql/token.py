"""Token parameters: ``code``, ``system|code``, ``|code``, ``system|`` (R4 §3.1.1.4.8).

Modifiers: ``:not`` (no value matches, resources without the element included),
``:text`` (the display / text stored with the code), ``:of-type`` (Identifier by its
type), ``:missing``, and the terminology ones, which the parser turns into a set of
codes (``terminology``): ``:in`` / ``:not-in`` a ValueSet, ``:below`` / ``:above`` a code
(is-a descendants / ancestors, the code itself included). Codes match on system *and*
code; ``:not-in`` includes resources without the element, as ``:not`` does.

``:of-type`` convention with extraction: an Identifier with a typed coding is also
indexed as ``TokenIndex(param="<code>:of-type", system=<type system>,
code="<type code>|<identifier value>")``, so the lookup stays one index probe.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import false, func, or_

from server.search.index_rows import OF_TYPE_SUFFIX
from server.search.parse import Criterion
from server.search.parse_values import CodesValue, MissingValue, OfTypeValue, StringValue, TokenValue
from server.search.sql.common import (
    Scope,
    all_of,
    any_of,
    has_no_row,
    has_row,
    index_alias,
    like_escape,
    missing,
)



def token_predicate(t, v: TokenValue):
    """One token value against an idx_token-shaped table (also used by reference :identifier)."""
    preds = []
    if v.code is not None:
        preds.append(t.c.code == v.code)
    if v.has_system:
        preds.append(t.c.system == v.system if v.system else or_(t.c.system.is_(None), t.c.system == ""))
    return all_of(*preds)


def codes_predicate(t, v: CodesValue):
    """(system = s AND code IN (…)) per system, OR system IN (whole systems)."""
    by_system: dict[str, list[str]] = defaultdict(list)
    for system, code in v.codes:
        by_system[system].append(code)
    preds = [(t.c.system == s) & t.c.code.in_(sorted(codes)) for s, codes in sorted(by_system.items())]
    if v.systems:
        preds.append(t.c.system.in_(sorted(v.systems)))
    return any_of(preds) if preds else false()


def _text_predicate(t, v: StringValue):
    # Case-insensitive, at the start of the text or of any word in it. lower() folds
    # ASCII only on SQLite; the stored text is not normalised (it is for display).
    word = like_escape(v.text.lower())
    low = func.lower(t.c.text)
    return or_(low.like(f"{word}%", escape="\\"), low.like(f"% {word}%", escape="\\"))


def condition(crit: Criterion, scope: Scope):
    t = index_alias("token")
    first = crit.values[0]
    if isinstance(first, MissingValue):
        return missing(t, scope, crit.code, first.missing)
    if isinstance(first, OfTypeValue):
        preds = [(t.c.system == v.system) & (t.c.code == f"{v.code}|{v.value}") for v in crit.values]
        return has_row(t, scope, crit.code + OF_TYPE_SUFFIX, any_of(preds))
    if isinstance(first, StringValue):
        return has_row(t, scope, crit.code, any_of([_text_predicate(t, v) for v in crit.values]))
    if isinstance(first, CodesValue):
        pred = any_of([codes_predicate(t, v) for v in crit.values])
        if crit.modifier == "not-in":
            return has_no_row(t, scope, crit.code, pred)
        return has_row(t, scope, crit.code, pred)
    pred = any_of([token_predicate(t, v) for v in crit.values])
    if crit.modifier == "not":
        return has_no_row(t, scope, crit.code, pred)
    return has_row(t, scope, crit.code, pred)
