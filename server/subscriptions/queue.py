"""The notification queue: claim due notifications, settle them (any number of workers).

A worker claims rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
serializes writers), so two API processes never send one notification at once; a row
whose worker died comes back when its lease runs out. Every settle checks the claim
token. Event notifications of one subscription go out in event-number order: one waits
while an earlier one is pending (also while that one waits for its next attempt).
Delivery is at least once: a worker that dies after the receiver got the notification
but before settling it sends it again; receivers dedupe by event number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from .models import (DELIVERED, EVENT, FAILED, HANDSHAKE, HEARTBEAT, PENDING, SENDING, SubscriptionNotification,
                     SubscriptionState)

N, S = SubscriptionNotification.__table__, SubscriptionState.__table__


@dataclass(frozen=True)
class Claimed:
    id: int
    claim: str
    subscription_id: str
    kind: str
    event_number: int
    resource_type: str | None
    fhir_id: str | None
    version_id: int | None
    action: str | None
    occurred: datetime
    attempts: int  # this one included


def _claimable(now: datetime):
    """Notifications that may be sent now: due (or back from a worker whose lease ran out),
    of a subscription in the right state, and not behind an earlier event of it."""
    me = SubscriptionNotification
    earlier = aliased(SubscriptionNotification)
    blocked = exists().where(earlier.subscription_id == me.subscription_id, earlier.id < me.id,
                             earlier.kind == EVENT, earlier.state.in_((PENDING, SENDING)))
    return (select(me.id)
            .join(SubscriptionState, SubscriptionState.subscription_id == me.subscription_id)
            .where(or_(and_(me.state == PENDING, me.next_attempt <= now),
                       and_(me.state == SENDING, me.lease_until < now)),
                   or_(and_(me.kind == HANDSHAKE, SubscriptionState.status == "requested"),
                       and_(me.kind == EVENT, SubscriptionState.status == "active", ~blocked),
                       and_(me.kind == HEARTBEAT, SubscriptionState.status == "active"))))


def due(conn: Connection, *, now: datetime) -> bool:
    """Is anything claimable? A plain read, so that an idle worker takes no write lock."""
    return conn.execute(_claimable(now).limit(1)).first() is not None


def claim(conn: Connection, *, now: datetime, lease_seconds: float, limit: int) -> list[Claimed]:
    query = (_claimable(now).order_by(SubscriptionNotification.id).limit(limit)
             .with_for_update(skip_locked=True, of=SubscriptionNotification))
    chosen = list(conn.execute(query).scalars())
    if not chosen:
        return []
    token = str(uuid.uuid4())
    rows = conn.execute(
        update(N).where(N.c.id.in_(chosen))
        .values(state=SENDING, claim=token, lease_until=now + timedelta(seconds=lease_seconds),
                attempts=N.c.attempts + 1)
        .returning(N.c.id, N.c.subscription_id, N.c.kind, N.c.event_number, N.c.resource_type, N.c.fhir_id,
                   N.c.version_id, N.c.action, N.c.occurred, N.c.attempts)).all()
    return sorted((Claimed(r.id, token, r.subscription_id, r.kind, r.event_number, r.resource_type, r.fhir_id,
                           r.version_id, r.action, r.occurred, r.attempts) for r in rows), key=lambda c: c.id)


def delivered(conn: Connection, item: Claimed, *, now: datetime) -> bool:
    """Mark it sent; False when the claim was lost (another worker has it now)."""
    return conn.execute(
        update(N).where(N.c.id == item.id, N.c.claim == item.claim, N.c.state == SENDING)
        .values(state=DELIVERED, claim=None, lease_until=None, delivered=now, error=None)).rowcount == 1


def failed(conn: Connection, item: Claimed, error: str, *, now: datetime, max_attempts: int, base_seconds: float,
           cap_seconds: float) -> bool | None:
    """Record a failed attempt: back to pending after an exponential backoff (base *
    2^(attempts-1), capped), or FAILED once ``max_attempts`` were made. Returns True when
    it gave up, False when it will retry, None when the claim was lost."""
    gave_up = item.attempts >= max_attempts
    values = (dict(state=FAILED) if gave_up else
              dict(state=PENDING, next_attempt=now + timedelta(seconds=backoff(item.attempts, base_seconds,
                                                                                cap_seconds))))
    moved = conn.execute(
        update(N).where(N.c.id == item.id, N.c.claim == item.claim, N.c.state == SENDING)
        .values(claim=None, lease_until=None, error=error, **values)).rowcount
    return None if moved != 1 else gave_up


def backoff(attempts: int, base_seconds: float, cap_seconds: float) -> float:
    return min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))
