"""The ``inbox`` table: one row per received message, its acks and processing state.

Server bookkeeping, not FHIR data (like ``storage.jobs``); same ``Base`` so that
migrations and the test fixtures see it. The raw bytes are kept exactly as received.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base, BigId

# States. received: waiting for a worker; processing: claimed (until lease_until);
# done: its Bundle is stored; dead: mapping or storing failed (error kept, replayable);
# rejected: refused at intake (AR/AE sent), never processed.
RECEIVED, PROCESSING, DONE, DEAD, REJECTED = "received", "processing", "done", "dead", "rejected"
STATES = (RECEIVED, PROCESSING, DONE, DEAD, REJECTED)


class InboxMessage(Base):
    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # sender|facility|MSH-10 (MLLP) or file|sha256|MSH-10 (ingest); NULL when rejected.
    dedup_key: Mapped[str | None] = mapped_column(String(512), unique=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # mllp | file
    source: Mapped[str | None] = mapped_column(String(255))  # peer address or file name
    received: Mapped[datetime] = mapped_column(DateTime)
    sender: Mapped[str | None] = mapped_column(String(255))  # MSH-3^MSH-4
    control_id: Mapped[str | None] = mapped_column(String(199))  # MSH-10
    message_type: Mapped[str | None] = mapped_column(String(64))  # MSH-9, e.g. ADT^A01
    patient_key: Mapped[str | None] = mapped_column(String(255))  # per-patient ordering
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim: Mapped[str | None] = mapped_column(String(36))  # token of the worker holding it
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    processed: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)  # location, 0357 code and text; no message content
    commit_ack: Mapped[bytes | None] = mapped_column(LargeBinary)  # the ack sent on receipt (original or CA)
    app_ack: Mapped[bytes | None] = mapped_column(LargeBinary)  # enhanced mode: the application ack
    raw: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index(None, "state", "id"),
        # A claim skips rows with an older pending row of the same patient: probed here, in an
        # index of pending rows only (a backlog of thousands of rows, not every message ever).
        Index("ix_inbox_pending", "patient_key", "id", postgresql_where=text("state IN ('received', 'processing')"),
              sqlite_where=text("state IN ('received', 'processing')")),
    )
