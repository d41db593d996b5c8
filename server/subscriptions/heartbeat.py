"""Heartbeats (backport-heartbeat-period): a subscription that asked for one hears from
the server at least that often, so its client can tell silence from a broken channel.

A heartbeat is queued when nothing was delivered for the period and nothing is waiting
to be sent; it then goes through the same queue, retries and error handling as events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from ..storage.db import WRITE
from ..storage.repository import utcnow
from .models import HEARTBEAT, PENDING, SENDING, SubscriptionNotification, SubscriptionState

N, S = SubscriptionNotification.__table__, SubscriptionState.__table__
ACTIVE = "active"


def queue_heartbeats(store) -> int:
    """Queue the heartbeats that are due; returns how many."""
    now = utcnow()
    with store.engine.connect() as conn:  # a plain read first: most rounds have none due
        rows = conn.execute(select(S.c.subscription_id, S.c.heartbeat_seconds, S.c.last_sent).where(
            S.c.status == ACTIVE, S.c.heartbeat_seconds.is_not(None))).all()
    candidates = [r.subscription_id for r in rows if _due(r, now)]
    queued = 0
    if not candidates:
        return 0
    with store.engine.execution_options(**WRITE).begin() as conn:
        for subscription_id in candidates:
            row = conn.execute(select(S).where(S.c.subscription_id == subscription_id).with_for_update()).first()
            if row is None or row.status != ACTIVE or not row.heartbeat_seconds or not _due(row, now):
                continue  # another process queued it, or the subscription changed meanwhile
            waiting = conn.execute(select(N.c.id).where(N.c.subscription_id == subscription_id,
                                                        N.c.state.in_((PENDING, SENDING))).limit(1)).first()
            if waiting is not None:
                continue  # something is about to be sent anyway
            conn.execute(insert(N).values(subscription_id=subscription_id, kind=HEARTBEAT,
                                          event_number=row.events_since_start, occurred=now, state=PENDING,
                                          attempts=0, next_attempt=now))
            conn.execute(update(S).where(S.c.subscription_id == subscription_id).values(last_sent=now))
            queued += 1
    return queued


def _due(row, now: datetime) -> bool:
    return row.last_sent is None or row.last_sent + timedelta(seconds=row.heartbeat_seconds) <= now
