"""passerelle serve: run the FHIR API (uvicorn)."""

from __future__ import annotations

import os

import uvicorn
from sqlalchemy.engine import make_url

from server.config import Settings
from server.storage.db import make_engine, migrate

NAME = "serve"
# uvicorn's logging, plus our structured loggers (access lines, slow searches) on stderr.
LOG_CONFIG = {
    **uvicorn.config.LOGGING_CONFIG,
    "loggers": {
        **uvicorn.config.LOGGING_CONFIG["loggers"],
        "passerelle": {"handlers": ["default"], "level": "INFO", "propagate": False},
    },
}
HELP = "Run the FHIR REST API (base /fhir)"


def add_arguments(parser) -> None:
    parser.add_argument("--host", help="interface to listen on (PASSERELLE_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (PASSERELLE_PORT, default 8080)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (PASSERELLE_DATABASE_URL, default sqlite file)")
    parser.add_argument("--workers", type=int, help="worker processes (PASSERELLE_WORKERS, default 1)")


def run(args) -> int:
    settings = Settings().with_overrides(host=args.host, port=args.port, database_url=args.database_url,
                                         workers=args.workers)
    # Worker processes build their own Settings from the environment: pass the flags on.
    os.environ["PASSERELLE_DATABASE_URL"] = settings.database_url
    engine = make_engine(settings.database_url)
    migrate(engine)  # once, before the workers start
    engine.dispose()
    print(f"Passerelle FHIR API on http://{settings.host}:{settings.port}/fhir (store: {_safe(settings.database_url)})")
    uvicorn.run("server.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_level=settings.log_level, proxy_headers=True,
                access_log=False,  # it prints query strings (patient data); server.access_log does not
                log_config=LOG_CONFIG)
    return 0


def _safe(url: str) -> str:
    """The database URL without its password, for the console."""
    return make_url(url).render_as_string(hide_password=True)
