"""Alembic environment: runs against the engine handed over by server.storage.db.migrate."""

from alembic import context

from server.storage import jobs  # noqa: F401  (its tables join Base.metadata)
from server.storage import snapshots  # noqa: F401  (idem)
from server.storage.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
