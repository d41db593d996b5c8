"""One settings object, read from ``PASSERELLE_*`` environment variables.

CLI flags override it (``passerelle serve --port 9000``); tests build their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace


def _env(name: str, default: str) -> str:
    return os.environ.get(f"PASSERELLE_{name.upper()}", default)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: _env("database_url", "sqlite:///var/passerelle.db"))
    base_url: str = field(default_factory=lambda: _env("base_url", "http://localhost:8080/fhir"))
    host: str = field(default_factory=lambda: _env("host", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("port", "8080")))
    workers: int = field(default_factory=lambda: int(_env("workers", "1")))
    max_body_bytes: int = field(default_factory=lambda: int(_env("max_body_bytes", str(16 * 1024 * 1024))))
    default_page_size: int = field(default_factory=lambda: int(_env("default_page_size", "20")))
    max_page_size: int = field(default_factory=lambda: int(_env("max_page_size", "1000")))
    max_bundle_entries: int = field(default_factory=lambda: int(_env("max_bundle_entries", "10000")))
    log_level: str = field(default_factory=lambda: _env("log_level", "info"))
    # Searches past this are stopped with a too-costly OperationOutcome (0: no limit).
    search_timeout_ms: int = field(default_factory=lambda: int(_env("search_timeout_ms", "10000")))
    # Searches taking this long or longer get one log line (types, parameter names, duration).
    slow_query_ms: int = field(default_factory=lambda: int(_env("slow_query_ms", "500")))
    # How stale a worker's view of SearchParameters may be for searches (writes always check).
    search_parameter_refresh_seconds: float = field(
        default_factory=lambda: float(_env("search_parameter_refresh_seconds", "1")))
    # Authorization server (server.auth): lifetimes of what it issues.
    auth_access_token_seconds: int = field(default_factory=lambda: int(_env("auth_access_token_seconds", "300")))
    auth_code_seconds: int = field(default_factory=lambda: int(_env("auth_code_seconds", "60")))
    auth_refresh_token_days: int = field(default_factory=lambda: int(_env("auth_refresh_token_days", "30")))

    def with_overrides(self, **overrides) -> Settings:
        """Apply the CLI flags that were given (None means: not given)."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in overrides.items() if k in known and v is not None})
