"""Background job state, kept in the database so that any worker can show it or resume it.

Separate from ``models.py`` (resources and their index) because jobs are server
bookkeeping, not FHIR data. Same ``Base``: migrations and the test fixtures see it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class ReindexJob(Base):
    """One ``$reindex`` run: which resources, how far it got, who is working on it."""

    __tablename__ = "reindex_job"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_types: Mapped[str | None] = mapped_column(Text)  # comma-separated; None: every type
    status: Mapped[str] = mapped_column(String(16))  # queued | running | completed | failed
    batch_size: Mapped[int] = mapped_column(Integer)
    # Resources written after the job was requested are indexed by their own write, so the
    # job covers pids up to max_pid only; last_pid is where a resumed job picks up.
    max_pid: Mapped[int] = mapped_column(BigInteger)
    last_pid: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(128))  # worker holding it; None: free to resume
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime)  # owner's lease, renewed every batch
    requested: Mapped[datetime] = mapped_column(DateTime)
    started: Mapped[datetime | None] = mapped_column(DateTime)
    finished: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
