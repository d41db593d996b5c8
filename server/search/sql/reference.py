"""Reference parameters: ``123``, ``Patient/123``, ``Patient/123/_history/2``, absolute
URLs, the ``:Type`` modifier, ``:identifier`` and ``:missing`` (R4 §3.1.1.4.10).

Chains and ``_has`` need the whole criterion machinery and live in ``builder``.

An absolute value (``http://…``, ``urn:…``) matches the stored ``url``: extraction
indexes absolute references by URL only, since they may name another server (the API
layer strips our own base from a query value before it gets here). ``Patient/1``, ``1``
and ``subject:Patient=1`` match a reference stored as ``Patient/1``.

``:identifier`` convention with extraction: a Reference.identifier is indexed as
``TokenIndex(param="<code>:identifier", system=…, code=<value>)``.
"""

from __future__ import annotations

from sqlalchemy import or_

from server.search.index_rows import IDENTIFIER_SUFFIX
from server.search.parse import Criterion
from server.search.parse_values import MissingValue, ReferenceValue
from server.search.sql.common import Scope, all_of, any_of, has_row, index_alias, missing
from server.search.sql.token import token_predicate


def predicate(t, v: ReferenceValue):
    """By URL, by type + id, or (a value with both: an absolute URL under our own base,
    localised by the API layer) by either."""
    version = (t.c.target_version == v.version) if v.version else None
    by_url = all_of(t.c.url == v.url, version) if v.url is not None else None
    if v.id is None:
        return by_url
    local = all_of(t.c.target_id == v.id, (t.c.target_type == v.type) if v.type else None, version)
    return local if by_url is None else or_(local, by_url)


def condition(crit: Criterion, scope: Scope):
    if crit.modifier == "identifier":
        t = index_alias("token")
        pred = any_of([token_predicate(t, v) for v in crit.values])
        return has_row(t, scope, crit.code + IDENTIFIER_SUFFIX, pred)
    t = index_alias("reference")
    if isinstance(crit.values[0], MissingValue):
        return missing(t, scope, crit.code, crit.values[0].missing)
    return has_row(t, scope, crit.code, any_of([predicate(t, v) for v in crit.values]))
