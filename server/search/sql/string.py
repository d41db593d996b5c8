"""String parameters: accent- and case-insensitive "starts with" by default (R4 §3.1.1.4.7).

``idx_string.value`` holds the normalised form (``server.search.normalize``) and
``exact`` the text as written, so the default and ``:contains`` compare normalised
text and ``:exact`` compares the original.
"""

from __future__ import annotations

from server.search.normalize import MAX_STRING_LENGTH, normalize
from server.search.parse import Criterion
from server.search.parse_values import MissingValue, StringValue
from server.search.sql.common import Scope, any_of, contains, has_row, index_alias, missing, prefix_match

def predicate(t, v: StringValue, modifier: str | None = None):
    """One string value against an idx_string-shaped table (also a composite's component)."""
    # Cut as extraction cuts (both columns hold at most MAX_STRING_LENGTH characters).
    exact = v.text.strip()[:MAX_STRING_LENGTH]
    norm = normalize(exact)[:MAX_STRING_LENGTH]
    if modifier == "exact":
        # ``value`` narrows through the (resource_type, param, value) index; ``exact`` decides.
        return (t.c.value == norm) & (t.c.exact == exact)
    if modifier == "contains":
        return contains(t.c.value, norm)  # no index can help a leading wildcard
    return prefix_match(t.c.value, norm)


def condition(crit: Criterion, scope: Scope):
    t = index_alias("string")
    if isinstance(crit.values[0], MissingValue):
        return missing(t, scope, crit.code, crit.values[0].missing)
    return has_row(t, scope, crit.code, any_of([predicate(t, v, crit.modifier) for v in crit.values]))
