"""History (instance, type, system) within a token's reach.

Which versions a token sees:

* those of the resources it could search: the search's own SQL criterion
  (``criteria.AccessCriterion``) ANDed into the version query, so ``_since``, ``_at``
  and the paging cursor work on what the token sees and nothing else;
* for ``patient/`` grants on types of the Patient compartment, only the versions that
  were themselves in the patient's compartment. Membership is judged twice: the
  resource must be in the compartment now (the search index describes the current
  version), and each version listed must have been in it as written (an Observation
  moved from patient B to patient A shows A none of B's versions). A deletion is judged
  by the version it deleted.

A resource deleted now is in no compartment (it has no index rows): a patient token
sees none of its versions, as no search or read finds it. Query-narrowed grants
(``?category=laboratory``) are judged on the current version only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select

from .. import jsonio
from ..errors import Forbidden, NotFound
from ..search.compartment import compartment_criterion
from ..search.index_rows import ReferenceIndex
from ..search.sql.common import Scope
from ..storage.models import Resource, ResourceVersion
from .access import SHARED_UNLESS_NAMING_PATIENT, Access, current
from .criteria import COMPARTMENT, AccessCriterion, compartment_members, visible_pids
from .guard import check_instance

R = Resource.__table__
V = ResourceVersion.__table__


@dataclass(frozen=True)
class HistoryReach:
    """The part of the history a token sees: ``where`` for the version query (None: no
    row filter), ``keep`` for the versions it returned."""

    access: Access
    registry: object
    letter: str  # "r" for an instance's history, "s" for type and system history
    where: Callable | None

    def keep(self, uow, versions: list) -> list:
        """The versions that were in the patient's compartment when written (see module doc)."""
        members = compartment_members(self.registry)
        judged = [self._per_version(v.resource_type, members) for v in versions]
        if not any(judged):
            return list(versions)
        # Reached by a grant other than a patient one (judged on the current version): kept whole.
        others = Access(tuple(g for g in self.access.grants if g.context != "patient"), self.access.patient)
        pids = sorted({v.pid for v, j in zip(versions, judged, strict=True) if j})
        reached = set(visible_pids(uow, others, self.letter, pids)) if others.grants else set()
        # A current version was judged by the SQL criterion (or check_instance) already.
        current = dict(uow.conn.execute(select(R.c.pid, R.c.version_id).where(R.c.pid.in_(pids))).all())
        params = {}
        out = []
        for version, judge in zip(versions, judged, strict=True):
            if judge and version.pid not in reached and current.get(version.pid) != version.version_id:
                rtype = version.resource_type
                if rtype not in params:
                    crit = compartment_criterion(self.registry, COMPARTMENT, self.access.patient, (rtype,))
                    params[rtype] = frozenset(p for _, names in crit.params for p in names)
                if not self._in_compartment(uow, version, params[rtype]):
                    continue
            out.append(version)
        return out

    def judges_versions(self, resource_type: str) -> bool:
        """Versions of this type are judged one by one (some may be left out)."""
        return self._per_version(resource_type, compartment_members(self.registry))

    def _per_version(self, resource_type: str, members: frozenset[str]) -> bool:
        return (resource_type in members
                and not self.access.unrestricted(self.letter, resource_type, members)
                and any(g.context == "patient" for g in self.access.grants_for(self.letter, resource_type)))

    def _in_compartment(self, uow, version, params: frozenset[str]) -> bool:
        if version.resource_type == COMPARTMENT and version.id == self.access.patient:
            return True
        content = version.content if version.content is not None else _deleted_content(uow, version)
        if content is None:
            return False
        refs = [row for row in uow.store.extract(jsonio.loads(content))
                if isinstance(row, ReferenceIndex) and row.target_type == COMPARTMENT]
        shared_by = SHARED_UNLESS_NAMING_PATIENT.get(version.resource_type)
        if shared_by and not any(row.param == shared_by for row in refs):
            return True  # names no patient (a practitioner's Schedule): not patient data
        return any(row.param in params and row.target_id == self.access.patient for row in refs)


def _deleted_content(uow, version) -> bytes | None:
    """The content a deletion removed: the last live version before it."""
    return uow.conn.execute(
        select(V.c.content).where(V.c.pid == version.pid, V.c.version_id < version.version_id,
                                  V.c.deleted.is_(False))
        .order_by(V.c.version_id.desc()).limit(1)).scalar()


def history_reach(uow, resource_type: str | None, fhir_id: str | None,
                  access: Access | None = None) -> HistoryReach | None:
    """Check the token may ask for this history (403 without a scope, 404 for an instance
    out of reach) and say which versions it sees; None: all of them."""
    access = access or current()
    if access.internal:
        return None
    registry = uow.store.registry
    members = compartment_members(registry)
    if fhir_id is not None:
        check_instance(uow, "r", resource_type, fhir_id, access)
        return HistoryReach(access, registry, "r", None)  # one resource, within reach now
    if resource_type is not None:
        access.require("s", resource_type)
        types = (resource_type,)
        whole = access.unrestricted("s", resource_type, members)
    else:
        every = tuple(sorted(registry.resource_types))
        types = tuple(t for t in every if access.allows("s", t))
        if not types:
            raise Forbidden("The access token permits searching no resource type: it has no history to see")
        whole = len(types) == len(every) and all(access.unrestricted("s", t, members) for t in types)
    if whole:
        return HistoryReach(access, registry, "s", None)
    if resource_type is None and all(access.unrestricted("s", t, members) for t in types):
        # Every type it may search, whole (system/*.rs without AuditEvent): leave the others out.
        excluded = tuple(t for t in every if t not in types)
        return HistoryReach(access, registry, "s", lambda table: table.c.resource_type.not_in(excluded))
    criterion = AccessCriterion(access, registry, "s")
    # A patient's compartment is narrow: let it drive (versions looked up by pid).
    drive = access.patient is not None

    def where(table):
        return criterion.condition(Scope(table, types, drive))

    return HistoryReach(access, registry, "s", where)


def check_version(uow, stored, access: Access | None = None):
    """``vread``: the version read must be within reach as history judges it (404 when not,
    as if absent). Returns ``stored``. The instance itself is checked by ``check_instance``."""
    access = access or current()
    if access.internal:
        return stored
    if stored.pid is None:
        stored = replace(stored, pid=uow.pid_of(stored.resource_type, stored.id))
    if not HistoryReach(access, uow.store.registry, "r", None).keep(uow, [stored]):
        raise NotFound(f"{stored.resource_type}/{stored.id}/_history/{stored.version_id} is not known")
    return stored
