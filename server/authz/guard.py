"""Checks on one resource, for the interactions that name it (read, vread, history,
update, patch, delete) and for what an operation returns.

A resource the token may not see answers 404, exactly as a resource that does not
exist: a patient token cannot learn that another patient's record is there. A type the
token has no scope for at all answers 403.
"""

from __future__ import annotations

from sqlalchemy import select

from ..errors import Forbidden, NotFound
from ..search.sql.common import Scope
from ..storage.models import Resource
from .access import Access, current
from .criteria import AccessCriterion, compartment_members, visible_pids

RES = Resource.__table__


def can_see(uow, access: Access, letter: str, resource_type: str, fhir_id: str) -> bool:
    """The live resource is within what ``letter`` grants reach."""
    if access.unrestricted(letter, resource_type, compartment_members(uow.store.registry)):
        return True
    uow.flush()
    crit = AccessCriterion(access, uow.store.registry, letter)
    stmt = select(RES.c.pid).where(RES.c.resource_type == resource_type, RES.c.fhir_id == fhir_id,
                                   RES.c.deleted.is_(False), crit.condition(Scope(RES, (resource_type,), False)))
    return uow.conn.execute(stmt).first() is not None


def check_instance(uow, letter: str, resource_type: str, fhir_id: str, access: Access | None = None) -> None:
    """403 without a scope for the type; 404 when the resource is out of the token's reach."""
    access = access or current()
    if access.internal:
        return
    access.require(letter, resource_type)
    if not can_see(uow, access, letter, resource_type, fhir_id):
        raise NotFound(f"{resource_type}/{fhir_id} is not known")


def check_written(uow, letter: str, resource_type: str, fhir_id: str) -> None:
    """After a create or update, inside its transaction: the new content must still be
    within the token's reach (a patient token cannot file a resource under another
    patient). Raising rolls the write back."""
    access = current()
    if access.internal:
        return
    if not can_see(uow, access, letter, resource_type, fhir_id):
        raise Forbidden(f"The access token does not permit writing this {resource_type}: "
                        f"it would be outside the token's patient compartment or scope query")


def visible_stored(uow, stored_list, letter: str = "s", access: Access | None = None) -> list:
    """Stored resources filtered to what the access may see (include pages, operation results)."""
    access = access or current()
    if access.internal or not stored_list:
        return list(stored_list)
    pids = []
    for stored in stored_list:
        pid = stored.pid if getattr(stored, "pid", None) else uow.pid_of(stored.resource_type, stored.id)
        pids.append(pid)
    keep = set(visible_pids(uow, access, letter, [p for p in pids if p is not None]))
    return [s for s, p in zip(stored_list, pids, strict=True) if p in keep]
