"""Reading the inbox for operators (``passerelle inbox``, ``$inbox``): never the message bodies."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from .models import InboxMessage

SUMMARY = (InboxMessage.id, InboxMessage.state, InboxMessage.channel, InboxMessage.source, InboxMessage.received,
           InboxMessage.sender, InboxMessage.control_id, InboxMessage.message_type, InboxMessage.attempts,
           InboxMessage.processed, InboxMessage.error)


def summaries(conn: Connection, *, state: str | None = None, limit: int = 50, before: int | None = None) -> list:
    """Newest first; ``before`` (an id) pages backwards."""
    query = select(*SUMMARY).order_by(InboxMessage.id.desc()).limit(limit)
    if state:
        query = query.where(InboxMessage.state == state)
    if before is not None:
        query = query.where(InboxMessage.id < before)
    return conn.execute(query).all()


def counts(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(select(InboxMessage.state, func.count()).group_by(InboxMessage.state)).all())


def one(conn: Connection, inbox_id: int):
    """Every column, body and acks included (local operators only: the CLI)."""
    return conn.execute(select(InboxMessage.__table__).where(InboxMessage.id == inbox_id)).first()
