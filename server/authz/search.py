"""A parsed search narrowed to what the request's token may see.

A type search needs a grant on its type (403 otherwise); a system or ``[compartment]/*``
search covers the types asked for (or all) that the token may search. The access
criterion is ANDed into the query, and into every chain target and ``_has`` source too,
so neither can test a resource the token cannot see (``Observation?subject.name=…``
reveals nothing of another patient's name).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import and_

from ..errors import Forbidden
from ..search.parse import Criterion, HasCriterion, SearchQuery
from ..search.sql.common import Scope
from .access import Access
from .criteria import AccessCriterion, compartment_members


@dataclass(frozen=True, eq=False)
class Restricted:
    """A chain target's or ``_has`` source's criterion, plus the access criterion."""

    inner: Criterion | HasCriterion
    guard: AccessCriterion

    @property
    def types(self) -> tuple[str, ...]:
        return self.inner.types

    @property
    def selectivity(self) -> int:
        from ..search.builder import selectivity

        return selectivity(self.inner)

    def condition(self, scope: Scope):
        from ..search.builder import criterion_condition

        return and_(criterion_condition(self.inner, scope), self.guard.condition(scope.probe()))


def restrict(query: SearchQuery, access: Access, registry, letter: str = "s") -> SearchQuery:
    if access.internal:
        return query
    if query.resource_type is not None:
        refused = [t for t in query.types if not access.allows(letter, t)]
        if refused:
            raise Forbidden(f"The access token does not permit searching {', '.join(refused)}",
                            expression=refused)
    else:  # system and [compartment]/[id]/* searches: the types the token may search
        types = query.types or tuple(sorted(registry.resource_types))
        query.types = tuple(t for t in types if access.allows(letter, t))
        if not query.types:
            raise Forbidden("The access token permits searching none of the types asked for")
    guard = AccessCriterion(access, registry, letter)
    members = compartment_members(registry)
    query.criteria = [_guarded(c, guard) for c in query.criteria]
    if not all(access.unrestricted(letter, t, members) for t in query.types):
        query.criteria.append(guard)
    return query


def _guarded(crit, guard: AccessCriterion):
    if isinstance(crit, HasCriterion):
        return replace(crit, inner=Restricted(_guarded(crit.inner, guard), guard))
    if isinstance(crit, Criterion) and crit.chain is not None:
        return replace(crit, chain=Restricted(_guarded(crit.chain, guard), guard))
    return crit
