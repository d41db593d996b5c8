"""Claiming and settling inbox rows (any number of workers, in any number of processes).

A worker claims rows with a lease: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL
(SQLite serializes writers). A row waits while an older row of the same patient is
still received or processing: per-patient order is kept, other patients go on in
parallel. A row whose lease ran out (its worker died) is claimed again; every settle
checks the claim token, so a worker that lost its claim cannot settle it twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from .models import DEAD, DONE, PROCESSING, RECEIVED, InboxMessage

T = InboxMessage.__table__


class LostClaim(Exception):
    """The row was claimed again by another worker (lease expired): leave it to that one."""


@dataclass(frozen=True)
class Claimed:
    id: int
    claim: str
    raw: bytes
    commit_ack: bytes | None
    attempts: int = 1  # this claim included


def claim(conn: Connection, *, now: datetime, lease_seconds: float, limit: int,
          ids: list[int] | None = None) -> list[Claimed]:
    """Claim up to ``limit`` processable rows (only among ``ids`` when given)."""
    # A row goes when it is its patient's oldest pending row. Asked as "id = the patient's
    # first pending id", one index probe per candidate, rather than "no older pending row":
    # planned from statistics of a table that was small, that anti-join ran as a loop over
    # every pending row for each pending row (386 ms per claim with 1,600 queued).
    earlier = aliased(InboxMessage)
    first_pending = (select(func.min(earlier.id))
                     .where(earlier.patient_key == InboxMessage.patient_key, earlier.state.in_((RECEIVED, PROCESSING)))
                     .scalar_subquery())
    query = (select(InboxMessage.id)
             .where(or_(InboxMessage.state == RECEIVED,
                        and_(InboxMessage.state == PROCESSING, InboxMessage.lease_until < now)),
                    or_(InboxMessage.patient_key.is_(None), InboxMessage.id == first_pending))
             .order_by(InboxMessage.id).limit(limit).with_for_update(skip_locked=True))
    if ids is not None:
        query = query.where(InboxMessage.id.in_(ids))
    chosen = list(conn.execute(query).scalars())
    if not chosen:
        return []
    token = str(uuid.uuid4())
    rows = conn.execute(
        update(T).where(T.c.id.in_(chosen))
        .values(state=PROCESSING, claim=token, lease_until=now + timedelta(seconds=lease_seconds),
                attempts=T.c.attempts + 1)
        .returning(T.c.id, T.c.raw, T.c.commit_ack, T.c.attempts)).all()
    return sorted((Claimed(r.id, token, r.raw, r.commit_ack, r.attempts) for r in rows), key=lambda c: c.id)


def settle(conn: Connection, item: Claimed, state: str, *, now: datetime, error: str | None = None,
           app_ack: bytes | None = None) -> None:
    """Mark a claimed row done or dead, in the caller's transaction; LostClaim if the
    claim is no longer ours (the transaction must then roll back)."""
    assert state in (DONE, DEAD)
    moved = conn.execute(
        update(T).where(T.c.id == item.id, T.c.claim == item.claim, T.c.state == PROCESSING)
        .values(state=state, claim=None, lease_until=None, processed=now, error=error, app_ack=app_ack)).rowcount
    if moved != 1:
        raise LostClaim(f"inbox message {item.id} was claimed by another worker")


def settle_many(conn: Connection, settled: list[tuple[Claimed, bytes | None]], state: str, *,
                now: datetime) -> None:
    """``settle`` for several rows (each with its application ack, or None): one statement
    for those without an ack; LostClaim if any of them is no longer ours."""
    plain = [item for item, app_ack in settled if app_ack is None]
    if plain:
        moved = conn.execute(
            update(T).where(T.c.id.in_([i.id for i in plain]), T.c.claim.in_({i.claim for i in plain}),
                            T.c.state == PROCESSING)
            .values(state=state, claim=None, lease_until=None, processed=now, error=None, app_ack=None)).rowcount
        if moved != len(plain):
            raise LostClaim(f"inbox messages {plain[0].id}-{plain[-1].id}: some were claimed by another worker")
    for item, app_ack in settled:
        if app_ack is not None:
            settle(conn, item, state, now=now, app_ack=app_ack)


def replay(conn: Connection, ids: list[int] | None) -> list[int]:
    """Dead letters back to received (idempotent: other states are left as they are);
    ``ids`` None: every dead letter."""
    condition = T.c.state == DEAD
    if ids is not None:
        condition = and_(condition, T.c.id.in_(ids))
    rows = conn.execute(update(T).where(condition)
                        .values(state=RECEIVED, error=None, app_ack=None, processed=None)
                        .returning(T.c.id)).scalars()
    return sorted(rows)
