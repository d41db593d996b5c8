"""Database schema: resources, their immutable versions, and the typed search index.

``resource`` holds one row per logical resource and points at its current version;
``resource_version`` holds every version ever written (tombstones included) and is
never updated. Reads and searches go through ``resource`` (unique on type + id), so
their cost does not grow with history. The ``idx_*`` tables index the current version
only: one table per SearchParameter type, keyed by the resource's ``pid``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer, "sqlite")

naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=naming)


class Resource(Base):
    """The current state of one logical resource."""

    __tablename__ = "resource"
    pid: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    fhir_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(Integer)
    last_updated: Mapped[datetime] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("resource_type", "fhir_id"),
        Index(None, "resource_type", "last_updated"),
    )


class ResourceVersion(Base):
    """One immutable version; ``content`` is the stored JSON (None for a delete)."""

    __tablename__ = "resource_version"
    pid: Mapped[int] = mapped_column(BigId, ForeignKey("resource.pid"), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    fhir_id: Mapped[str] = mapped_column(String(64))
    last_updated: Mapped[datetime] = mapped_column(DateTime)
    method: Mapped[str] = mapped_column(String(8))  # POST, PUT, PATCH, DELETE
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (
        Index(None, "last_updated"),
        Index(None, "resource_type", "last_updated"),
    )


class IndexRow:
    """Columns shared by every idx_* table.

    ``instance`` numbers the elements a composite parameter selected, on its component
    rows only (NULL elsewhere): a composite matches when its components' rows share
    ``pid`` and ``instance`` (see ``server.search.index_rows``).
    """

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pid: Mapped[int] = mapped_column(BigId, ForeignKey("resource.pid"))
    resource_type: Mapped[str] = mapped_column(String(64))
    param: Mapped[str] = mapped_column(String(100))
    instance: Mapped[int | None] = mapped_column(Integer, nullable=True)


def probe_index() -> Index:
    """``(pid, resource_type, param)``: a search's ``EXISTS`` probes (``idx_x.pid = resource.pid
    AND resource_type = … AND param = …``) become one index range of a few rows instead of
    every row of the resource; the writer's ``DELETE … WHERE pid = …`` uses it too."""
    return Index(None, "pid", "resource_type", "param")


class IdxString(IndexRow, Base):
    __tablename__ = "idx_string"
    value: Mapped[str] = mapped_column(String(255))
    exact: Mapped[str] = mapped_column(String(255))
    __table_args__ = (
        # pid last: the pids of a prefix match come from the index alone (index-only scans).
        Index(None, "resource_type", "param", "value", "pid", postgresql_ops={"value": "varchar_pattern_ops"}),
        probe_index(),
    )


class IdxToken(IndexRow, Base):
    __tablename__ = "idx_token"
    system: Mapped[str | None] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    # pid last: an exact code's pids come from the index alone, in pid order.
    __table_args__ = (Index(None, "resource_type", "param", "code", "system", "pid"), probe_index())


class IdxDate(IndexRow, Base):
    __tablename__ = "idx_date"
    low: Mapped[datetime | None] = mapped_column(DateTime)
    high: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index(None, "resource_type", "param", "low", "high"), probe_index())


class IdxNumber(IndexRow, Base):
    __tablename__ = "idx_number"
    value: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index(None, "resource_type", "param", "value"), probe_index())


class IdxQuantity(IndexRow, Base):
    __tablename__ = "idx_quantity"
    system: Mapped[str | None] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(255))
    unit: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index(None, "resource_type", "param", "value"), probe_index())


class IdxReference(IndexRow, Base):
    __tablename__ = "idx_reference"
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    target_version: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(1024))
    __table_args__ = (
        # pid last: the referrers of a target come from the index alone, in pid order.
        Index(None, "resource_type", "param", "target_id", "target_type", "pid"),
        Index(None, "target_type", "target_id"),
        probe_index(),
        # Absolute and canonical references are searched by URL; most rows have none.
        Index(
            "ix_idx_reference_resource_type_param_url",
            "resource_type",
            "param",
            "url",
            postgresql_where=text("url IS NOT NULL"),
            sqlite_where=text("url IS NOT NULL"),
        ),
    )


class IdxUri(IndexRow, Base):
    __tablename__ = "idx_uri"
    uri: Mapped[str] = mapped_column(String(1024))
    __table_args__ = (Index(None, "resource_type", "param", "uri"), probe_index())


# The index table of each SearchParameter type: the one place both the writer
# (storage.repository) and the query builder (search.sql) look it up.
INDEX_TABLES = {
    "string": IdxString.__table__,
    "token": IdxToken.__table__,
    "date": IdxDate.__table__,
    "number": IdxNumber.__table__,
    "quantity": IdxQuantity.__table__,
    "reference": IdxReference.__table__,
    "uri": IdxUri.__table__,
}
