"""Fan-out: turn outbox rows into numbered notifications, after commit, in the worker.

Each batch of ``subscription_event`` rows (writes already matched, in their own
transaction, by server.subscriptions.matching) is claimed with ``FOR UPDATE SKIP
LOCKED``, numbered per subscription and queued in ``subscription_notification``, and
marked done, in ONE transaction: a crash leaves both or neither, and two processes never
queue one row twice. Numbering here rather than in the writing transaction keeps the
subscriptions' counters (row locks) out of the write path.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update

from .matching import ACTIVE
from .models import DONE, EVENT, PENDING, SubscriptionEvent, SubscriptionNotification, SubscriptionState

E, N, S = SubscriptionEvent.__table__, SubscriptionNotification.__table__, SubscriptionState.__table__


def fan_out(store, *, batch: int = 100) -> int:
    """Queue the notifications of one batch of outbox rows; returns how many rows."""
    with store.engine.connect() as conn:  # a read first: no write lock while there is nothing to do
        if conn.execute(select(E.c.id).where(E.c.state == PENDING).limit(1)).first() is None:
            return 0
    with store.write() as uow:
        events = uow.conn.execute(select(E).where(E.c.state == PENDING).order_by(E.c.id).limit(batch)
                                  .with_for_update(skip_locked=True)).all()
        if not events:
            return 0
        by_subscription: dict[str, list] = {}
        for row in events:
            for subscription_id in row.subscriptions.split():
                by_subscription.setdefault(subscription_id, []).append(row)
        notifications: list[dict] = []
        for subscription_id, rows in by_subscription.items():
            notifications += _numbered(uow, subscription_id, rows)
        if notifications:
            uow.conn.execute(insert(N), notifications)  # in event order: ids follow event numbers
        uow.conn.execute(update(E).where(E.c.id.in_([e.id for e in events])).values(state=DONE))
        return len(events)


def _numbered(uow, subscription_id: str, rows: list) -> list[dict]:
    """Notification rows numbered on from the subscription's counter (its row lock orders
    concurrent fan-outs); none if it was turned off or deleted since the write."""
    last = uow.conn.execute(update(S).where(S.c.subscription_id == subscription_id, S.c.status == ACTIVE)
                            .values(events_since_start=S.c.events_since_start + len(rows))
                            .returning(S.c.events_since_start)).scalar_one_or_none()
    if last is None:
        return []
    first = last - len(rows) + 1
    return [dict(subscription_id=subscription_id, kind=EVENT, event_number=first + n, resource_type=e.resource_type,
                 fhir_id=e.fhir_id, version_id=e.version_id, action=e.action, occurred=e.recorded, state=PENDING,
                 attempts=0, next_attempt=uow.now, claim=None, lease_until=None, delivered=None, error=None)
            for n, e in enumerate(rows)]
