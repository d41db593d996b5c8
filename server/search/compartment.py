"""Compartment search: ``GET [base]/Patient/123/Observation`` and ``…/Patient/123/*``.

Membership comes from the official Patient CompartmentDefinition (``profiles/``): a
resource of type T is in the compartment of Patient/123 when one of the search
parameters listed for T (Observation: ``subject``, ``performer``) refers to Patient/123.
The patient itself belongs to its own compartment too (the compartment's identity is
the patient, and ``$everything`` returns it), besides the patients that ``link`` to it.

Membership is a ``ServerCriterion`` (see ``server.search.builder``): ANDed with the
request's criteria, paged and counted like any of them. It reads ``idx_reference``
through its ``(target_type, target_id)`` index, so absolute references to this server
(indexed with their type and id) count as well as relative ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from sqlalchemy import and_, exists, false, literal, or_, select

from profiles import load_bundle
from server.errors import BadRequest, NotFound
from server.search.sql.common import Scope, index_alias, type_filter

COMPARTMENTS = ("Patient",)  # the CompartmentDefinitions this server has


@cache
def _definition(compartment: str) -> dict[str, tuple[str, ...]]:
    """Resource type -> the parameters that put it in the compartment."""
    data = load_bundle(f"compartmentdefinition-{compartment.lower()}")
    return {r["code"]: tuple(r["param"]) for r in data["resource"] if r.get("param")}


@dataclass(frozen=True)
class CompartmentCriterion:
    compartment: str  # "Patient"
    id: str  # the patient's id
    params: tuple[tuple[str, tuple[str, ...]], ...]  # (resource type, its membership parameters)
    owner: bool  # the compartment's own resource (Patient/123) is searched too
    name: str = "compartment"
    selectivity: int = 1  # one patient's references: narrow, a good driver

    def condition(self, scope: Scope):
        conds = [self._referenced(scope)] if self.params else []
        if self.owner:
            conds.append(and_(scope.res.c.resource_type == self.compartment, scope.res.c.fhir_id == self.id))
        return or_(*conds) if conds else false()

    def _referenced(self, scope: Scope):
        ref = index_alias("reference")
        # Group the types by their parameter list: a dozen OR branches rather than sixty.
        by_params: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for rtype, params in self.params:
            by_params[params].append(rtype)
        which = or_(*(and_(*type_filter(ref.c.resource_type, tuple(types)), ref.c.param.in_(params))
                      for params, types in by_params.items()))
        where = [ref.c.target_type == self.compartment, ref.c.target_id == self.id, which]
        if scope.drive:
            return scope.res.c.pid.in_(select(ref.c.pid).where(*where).correlate(None))
        return exists(select(literal(1)).select_from(ref).where(ref.c.pid == scope.res.c.pid, *where)
                      .correlate(scope.res))


def compartment_criterion(registry, compartment: str, fhir_id: str, types: tuple[str, ...]) -> CompartmentCriterion:
    """Membership of ``types`` (the searched types, all of them members) in ``compartment/fhir_id``."""
    definition = _definition(compartment)
    params = []
    for rtype in types:
        # Only what the registry can search: a runtime registry may have dropped a parameter.
        known = tuple(p for p in definition.get(rtype, ()) if (d := registry.get(rtype, p)) and d.type == "reference")
        if known:
            params.append((rtype, known))
    return CompartmentCriterion(compartment, fhir_id, tuple(params), owner=compartment in types)


def member_types(registry, compartment: str, wanted: str) -> tuple[str, ...]:
    """The types searched by ``[compartment]/[id]/[wanted]`` (``*``: every member type)."""
    if compartment not in COMPARTMENTS:
        raise NotFound(f"There is no {compartment} compartment on this server (it has: {', '.join(COMPARTMENTS)})",
                       code="not-supported")
    members = sorted({*_definition(compartment), compartment} & registry.resource_types)
    if wanted == "*":
        return tuple(members)
    if wanted not in members:
        raise BadRequest(f"{wanted} resources are never in the {compartment} compartment", code="not-supported",
                         expression=wanted)
    return (wanted,)
