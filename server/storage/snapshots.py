"""Search snapshots: the ordered matches of a search, kept while a client pages through it.

Server bookkeeping, not FHIR data (like ``jobs``), on the same ``Base`` so that migrations
and the test fixtures see it. Written and read by ``server.search.paging``; rows older
than the snapshot lifetime are deleted whenever a new snapshot is written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId


class SearchSnapshot(Base):
    """One match of one search: its 1-based ``position`` in the search's order."""

    __tablename__ = "search_snapshot"
    search_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    pid: Mapped[int] = mapped_column(BigId)  # no foreign key: a snapshot outlives nothing it points at
    created: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index(None, "created"),)
