"""What every request handler needs, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import Settings
from .search.registry import SearchRegistry
from .search.reindex import Reindexer
from .search.runtime import RuntimeSearchParameters
from .storage.repository import Store


@dataclass
class AppContext:
    settings: Settings
    store: Store
    registry: SearchRegistry
    resource_types: frozenset[str]
    operations: dict = field(default_factory=dict)  # filled by server.operations.registry
    search_parameters: RuntimeSearchParameters | None = None  # stored SearchParameters -> registry
    reindexer: Reindexer | None = None  # $reindex jobs
