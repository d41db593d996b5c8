"""Uri parameters: exact match, ``:below`` (starts with), ``:above`` (R4 §3.1.1.4.13).

``:above`` matches stored URIs that are a path prefix of the value; rather than
``value LIKE uri || '%'`` (unindexable), it lists those prefixes and probes them.
"""

from __future__ import annotations

from server.search.parse import Criterion
from server.search.parse_values import MissingValue, UriValue
from server.search.sql.common import Scope, any_of, has_row, index_alias, missing, prefix_match


def ancestors(uri: str) -> list[str]:
    """``http://a.org/fhir/ValueSet/1`` → itself, ``…/ValueSet/``, ``…/ValueSet``, …, ``http://a.org``."""
    scheme = uri.find("://")
    root = uri.find("/", scheme + 3) if scheme >= 0 else uri.find("/")  # end of the authority
    out, cut = [uri], len(uri)
    while root >= 0 and (cut := uri.rfind("/", 0, cut)) >= root:
        out += [uri[: cut + 1], uri[:cut]]
    return list(dict.fromkeys(out))


def predicate(t, v: UriValue):
    """Exact match (a composite's uri component takes no modifier)."""
    return t.c.uri == v.uri


def condition(crit: Criterion, scope: Scope):
    t = index_alias("uri")
    if isinstance(crit.values[0], MissingValue):
        return missing(t, scope, crit.code, crit.values[0].missing)
    if crit.modifier == "below":
        pred = any_of([prefix_match(t.c.uri, v.uri) for v in crit.values])
    elif crit.modifier == "above":
        pred = t.c.uri.in_(sorted({a for v in crit.values for a in ancestors(v.uri)}))
    else:
        pred = t.c.uri.in_([v.uri for v in crit.values])
    return has_row(t, scope, crit.code, pred)
