"""Reference parameters: ``123``, ``Patient/123``, ``Patient/123/_history/2``, absolute
URLs, the ``:Type`` modifier, ``:identifier`` and ``:missing`` (R4 §3.1.1.4.10).

Chains and ``_has`` need the whole criterion machinery and live in ``builder``.

``:identifier`` convention with extraction: a Reference.identifier is indexed as
``TokenIndex(param="<code>:identifier", system=…, code=<value>)``.
"""

from __future__ import annotations

from server.search.parse import Criterion
from server.search.parse_values import MissingValue, ReferenceValue
from server.search.sql.common import Scope, all_of, any_of, has_row, index_alias, missing
from server.search.sql.token import token_predicate

IDENTIFIER_SUFFIX = ":identifier"


def _predicate(t, v: ReferenceValue):
    if v.url is not None:
        return all_of(t.c.url == v.url, (t.c.target_version == v.version) if v.version else None)
    return all_of(
        t.c.target_id == v.id,
        (t.c.target_type == v.type) if v.type else None,
        (t.c.target_version == v.version) if v.version else None,
    )


def condition(crit: Criterion, scope: Scope):
    if crit.modifier == "identifier":
        t = index_alias("token")
        pred = any_of([token_predicate(t, v) for v in crit.values])
        return has_row(t, scope, crit.code + IDENTIFIER_SUFFIX, pred)
    t = index_alias("reference")
    if isinstance(crit.values[0], MissingValue):
        return missing(t, scope, crit.code, crit.values[0].missing)
    return has_row(t, scope, crit.code, any_of([_predicate(t, v) for v in crit.values]))
