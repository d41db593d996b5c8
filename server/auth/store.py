"""Database sessions and the clock for the auth modules."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ..storage.db import WRITE


def now() -> datetime:
    """Naive UTC, like every DateTime column of the schema."""
    return datetime.now(UTC).replace(tzinfo=None)


def epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def digest(secret: str) -> str:
    """Codes and refresh tokens are stored as digests: a database dump cannot replay them.
    They are 256-bit random values, so a plain SHA-256 (no salt, no stretching) suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


@contextmanager
def session(ctx, *, write: bool = False):
    """One transaction; writers take SQLite's write lock up front (see storage.db)."""
    engine = ctx.store.engine.execution_options(**WRITE) if write else ctx.store.engine
    with Session(engine, expire_on_commit=False) as s, s.begin():
        yield s
