"""What each directory entry last wrote (migration 0011).

One row per (source, entry key): the resource it became and a digest of the content the
extract gave it. A re-import compares digests instead of re-reading resources, and finds
what vanished from the extract by the import that last saw each entry.
"""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base

ENDED = "ended"  # digest of a role the extract no longer lists (the role was ended)


class DirectoryEntry(Base):
    __tablename__ = "directory_entry"
    source: Mapped[str] = mapped_column(String(32), primary_key=True)  # "rpps", "nppes"
    entry_key: Mapped[str] = mapped_column(String(512), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    fhir_id: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    import_id: Mapped[str] = mapped_column(String(36))  # the last import whose extract listed it

    __table_args__ = (Index("ix_directory_entry_vanished", "source", "resource_type", "import_id"),)
