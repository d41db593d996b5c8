"""Absolute references to this server, searched as the local references they are.

``subject=http://our.host/fhir/Patient/1`` must find ``subject: Patient/1`` (R4
§3.1.1.4.10: a server SHOULD treat its own base URL as local). Such a value becomes two
OR'ed values: ``Patient/1`` (type + id, the relative references) and the URL as written
(references stored absolute, which extraction indexes by ``url`` only: it cannot tell our
base from another server's). Any other absolute URL is matched as written.
"""

from __future__ import annotations

from dataclasses import replace

from server.errors import BadRequest
from server.search.parse import Criterion, HasCriterion, SearchQuery
from server.search.parse_values import ReferenceValue, parse_reference


def localize(query: SearchQuery, bases) -> SearchQuery:
    """``query`` with reference values under one of ``bases`` also searched as ``Type/id``."""
    prefixes = tuple(dict.fromkeys(b.rstrip("/") + "/" for b in bases if b))
    if prefixes:
        query.criteria = [_criterion(c, prefixes) for c in query.criteria]
    return query


def _criterion(crit, prefixes: tuple[str, ...]):
    if isinstance(crit, HasCriterion):
        return replace(crit, inner=_criterion(crit.inner, prefixes))
    if not isinstance(crit, Criterion):
        return crit  # server-made (compartment): nothing written by the client
    if crit.chain is not None:
        return replace(crit, chain=_criterion(crit.chain, prefixes))
    if crit.param.type != "reference" or crit.modifier == "identifier":
        return crit
    values = tuple(dict.fromkeys(v for value in crit.values for v in _values(value, crit, prefixes)))
    return replace(crit, values=values)


def _values(value, crit: Criterion, prefixes: tuple[str, ...]) -> tuple:
    if not isinstance(value, ReferenceValue) or value.url is None or value.version is not None:
        return (value,)
    prefix = next((p for p in prefixes if value.url.startswith(p)), None)
    if prefix is None:
        return (value,)
    type_modifier = crit.modifier if crit.modifier and crit.modifier[0].isupper() else None
    try:
        local = parse_reference(value.url[len(prefix):], crit.name, type_modifier)
    except BadRequest:
        return (value,)  # under our base but not Type/id (an operation URL...): compared as written
    return (local, value) if local.type else (value,)  # a bare id is no local reference either
