"""What the auth commands need: the settings and a migrated database engine."""

from __future__ import annotations

from types import SimpleNamespace

from server.config import Settings
from server.storage.db import make_engine, migrate


def add_database_argument(parser) -> None:
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL, default sqlite file)")


def open_context(args):
    settings = Settings().with_overrides(database_url=args.database_url)
    engine = make_engine(settings.database_url, pool_size=1)
    migrate(engine)
    # The auth registry only needs store.engine and settings, not the whole FHIR context.
    return SimpleNamespace(settings=settings, store=SimpleNamespace(engine=engine))
