"""An Access as SQL: a server criterion ANDed into searches (see server.search.builder).

For the searched types, the rows a token may see are the OR of its grants: a type some
grant reaches whole needs no filter; otherwise each grant adds ``type IN (...)`` AND the
patient's compartment (``patient/`` grants on compartment types) AND its query's
criteria. A type no grant reaches matches nothing. Because this is a criterion like any
other, paging, ``_total`` and ``_summary=count`` count only what the token can see.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, false, literal, or_, select

from ..search.compartment import compartment_criterion, member_types
from ..search.parse import parse_search
from ..search.sql.common import Scope, index_alias, type_filter
from .access import SHARED_TYPES, SHARED_UNLESS_NAMING_PATIENT, Access, Grant, restricts

COMPARTMENT = "Patient"


def compartment_members(registry) -> frozenset[str]:
    return frozenset(member_types(registry, COMPARTMENT, "*"))


@dataclass(frozen=True, eq=False)
class AccessCriterion:
    access: Access
    registry: object
    letter: str  # "s" for searches and what they add, "r" for reads
    name: str = "access"

    @property
    def selectivity(self) -> int:
        # A patient's compartment is narrow (a good driver); a query narrowing usually is not.
        return 1 if self.access.patient else 6

    def condition(self, scope: Scope):
        types = scope.types or tuple(sorted(self.registry.resource_types))
        members = compartment_members(self.registry)
        open_types = [t for t in types if self.access.unrestricted(self.letter, t, members)]
        branches = [and_(*type_filter(scope.res.c.resource_type, tuple(open_types)))] if open_types else []
        closed = [t for t in types if t not in open_types and self.access.grants_for(self.letter, t)]
        for grant in self.access.grants:
            reached = tuple(t for t in closed if grant.applies(self.letter, t) and restricts(grant, t, members))
            if reached:
                branches.append(self._grant_condition(grant, reached, members, scope))
        if not branches:
            return false()
        return or_(*branches) if len(branches) > 1 else branches[0]

    def _grant_condition(self, grant: Grant, types: tuple[str, ...], members, scope: Scope):
        conds = [*type_filter(scope.res.c.resource_type, types)]
        if grant.context == "patient":
            in_compartment = tuple(t for t in types if t in members)
            outside = tuple(t for t in types if t not in members and t in SHARED_TYPES)
            member_scope = Scope(scope.res, in_compartment, scope.drive)
            criterion = compartment_criterion(self.registry, COMPARTMENT, self.access.patient, in_compartment)
            compartment = criterion.condition(member_scope) if in_compartment else false()
            anyone = [_names_no_patient(scope, t, SHARED_UNLESS_NAMING_PATIENT[t])
                      for t in in_compartment if t in SHARED_UNLESS_NAMING_PATIENT]
            if outside:
                anyone.append(and_(*type_filter(scope.res.c.resource_type, outside)))
            conds.append(or_(compartment, *anyone) if anyone else compartment)
        if grant.query:
            conds.append(self._query_condition(grant, types, scope))
        return and_(*conds)

    def _query_condition(self, grant: Grant, types: tuple[str, ...], scope: Scope):
        from ..search.builder import criterion_condition  # builder imports nothing of ours

        per_type = []
        for rtype in types:
            query = parse_search(rtype, list(grant.query), self.registry)
            if query.unknown:  # a narrowing we cannot evaluate reaches nothing
                continue
            type_scope = Scope(scope.res, (rtype,), drive=False)
            per_type.append(and_(scope.res.c.resource_type == rtype,
                                 *(criterion_condition(c, type_scope) for c in query.criteria)))
        return or_(*per_type) if per_type else false()


def _names_no_patient(scope: Scope, resource_type: str, param: str):
    """A ``resource_type`` whose ``param`` refers to no Patient (a practitioner's Schedule)."""
    ref = index_alias("reference")
    return and_(scope.res.c.resource_type == resource_type, ~exists(
        select(literal(1)).select_from(ref).where(ref.c.pid == scope.res.c.pid, ref.c.resource_type == resource_type,
                                                  ref.c.param == param, ref.c.target_type == COMPARTMENT)
        .correlate(scope.res)))


def visible_pids(uow, access: Access, letter: str, pids: list[int]) -> list[int]:
    """The pids (order kept) the access may see: includes, operation results."""
    if access.internal or not pids:
        return list(pids)
    from ..storage.models import Resource

    res = Resource.__table__
    crit = AccessCriterion(access, uow.store.registry, letter)
    allowed: set[int] = set()
    for i in range(0, len(pids), 500):
        chunk = pids[i:i + 500]
        stmt = select(res.c.pid).where(res.c.pid.in_(chunk), crit.condition(Scope(res, (), drive=False)))
        allowed.update(uow.conn.execute(stmt).scalars())
    return [p for p in pids if p in allowed]
