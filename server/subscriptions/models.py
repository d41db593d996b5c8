"""Subscription bookkeeping: the outbox of changes, the notification queue, per-subscription state.

Server bookkeeping, not FHIR data (like ``server.inbox``); same ``Base`` so that the
migrations and the test fixtures see it.

- ``subscription_event``: one row per write that active subscriptions selected, with
  their ids, inserted in the very transaction of that write (the outbox). A worker turns
  it into numbered notifications after commit ("fan-out") and marks it done in the
  transaction that queues them, so a change is queued exactly once, whatever crashes.
- ``subscription_notification``: one row per notification to send (handshake or event),
  numbered per subscription; claimed with a lease, retried with backoff.
- ``subscription_state``: what the worker needs without reading the Subscription resource
  (its status, watched type, topic), the event counter, the creator's grants and the last
  delivery error.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base, BigId

# subscription_event.state
PENDING, DONE = "pending", "done"
# subscription_notification.state (pending also covers "waiting for its next attempt")
SENDING, DELIVERED, FAILED = "sending", "delivered", "failed"
# subscription_notification.kind: the backport IG's notification types
HANDSHAKE, HEARTBEAT, EVENT = "handshake", "heartbeat", "event-notification"


class SubscriptionEvent(Base):
    __tablename__ = "subscription_event"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    fhir_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))  # create | update | delete
    subscriptions: Mapped[str] = mapped_column(Text)  # space-separated ids of the subscriptions it matched
    recorded: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index(None, "state", "id"),)


class SubscriptionNotification(Base):
    __tablename__ = "subscription_notification"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # handshake | heartbeat | event-notification
    event_number: Mapped[int] = mapped_column(Integer)  # events so far, for a handshake or heartbeat
    resource_type: Mapped[str | None] = mapped_column(String(64))  # the focus (events only)
    fhir_id: Mapped[str | None] = mapped_column(String(64))
    version_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(8))
    occurred: Mapped[datetime] = mapped_column(DateTime)  # when the triggering write was recorded
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime] = mapped_column(DateTime)
    claim: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    delivered: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)  # the last failure: HTTP status or network error, no content

    __table_args__ = (
        Index(None, "state", "next_attempt"),
        Index(None, "subscription_id", "event_number"),
    )


class SubscriptionState(Base):
    __tablename__ = "subscription_state"
    subscription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # mirrors Subscription.status; "deleted" once deleted
    resource_type: Mapped[str] = mapped_column(String(64))  # the type whose writes it watches
    topic: Mapped[str | None] = mapped_column(String(255))  # the backport topic canonical, None for R4 criteria
    events_since_start: Mapped[int] = mapped_column(Integer, default=0)
    access: Mapped[str] = mapped_column(Text)  # JSON: the grants of whoever last wrote it (server.subscriptions.grants)
    error: Mapped[str | None] = mapped_column(Text)  # the last delivery failure
    heartbeat_seconds: Mapped[int | None] = mapped_column(Integer)  # backport-heartbeat-period
    last_sent: Mapped[datetime | None] = mapped_column(DateTime)  # the last notification delivered

    __table_args__ = (Index(None, "resource_type", "status"),)
