"""SearchParameter resources in the database -> every worker's in-memory SearchRegistry.

Each worker process has its own registry; the SearchParameter resources are rows like
any other. So every unit of work compares a fingerprint of those rows with the one the
registry was loaded from and reloads what changed (one indexed aggregate query, no
message bus). Writes look every time: the index rows they write must follow the
parameters committed before them. Reads (searches) look at most every
``refresh_seconds``, and at once after this worker itself changed a SearchParameter.

A SearchParameter applies to resources written after it; existing ones need
``$reindex`` (server.search.reindex). A retired one is not in effect, nor one without
an expression (valid R4, but nothing to evaluate: its code stays unknown to search). One
with the url of an official R4 parameter replaces it while it exists.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from sqlalchemy import and_, func, select

from .. import jsonio
from ..errors import FhirError, Unprocessable
from ..storage.models import IdxUri, Resource, ResourceVersion
from .registry import SearchRegistry, parse_search_parameter

log = logging.getLogger(__name__)

R = Resource.__table__
V = ResourceVersion.__table__
SEARCH_PARAMETER = "SearchParameter"

# count and sum(version_id) grow with every create, update and delete whatever the clocks
# say (a unit of work stamps lastUpdated when it starts, not when it commits);
# max(last_updated) tells a store emptied and refilled from the one before.
FINGERPRINT = select(func.count(), func.sum(R.c.version_id), func.max(R.c.last_updated)).where(
    R.c.resource_type == SEARCH_PARAMETER
)
LIVE = select(R.c.fhir_id, R.c.version_id).where(R.c.resource_type == SEARCH_PARAMETER, R.c.deleted.is_(False))
CONTENT = (
    select(R.c.fhir_id, V.c.content)
    .select_from(R.join(V, and_(V.c.pid == R.c.pid, V.c.version_id == R.c.version_id)))
    .where(R.c.resource_type == SEARCH_PARAMETER, R.c.deleted.is_(False))
)


def in_effect(resource: dict) -> bool:
    return resource.get("status") != "retired" and bool(resource.get("expression"))


class RuntimeSearchParameters:
    """A ``StoreListener`` keeping ``registry`` in step with the stored SearchParameters."""

    def __init__(self, registry: SearchRegistry, *, refresh_seconds: float = 1.0, clock=time.monotonic):
        self.registry = registry
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._fingerprint: tuple | None = None
        self._checked = -math.inf
        self._installed: dict[str, tuple[int, str | None]] = {}  # fhir_id -> (version_id, url added)

    # -- StoreListener -------------------------------------------------------------------

    def begin(self, uow, *, write: bool) -> None:
        if write or self._clock() - self._checked >= self.refresh_seconds:
            self.refresh(uow.conn)

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type != SEARCH_PARAMETER:
            return
        if resource is not None:
            check(uow, fhir_id, resource)
        uow.after_commit.append(self.invalidate)

    # -- loading -------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Look at the database on the next unit of work, reads included."""
        self._checked = -math.inf

    def refresh(self, conn) -> None:
        fingerprint = tuple(conn.execute(FINGERPRINT).one())
        self._checked = self._clock()
        if fingerprint == self._fingerprint:
            return
        with self._lock:  # one thread reloads; the others wait and then find it done
            if fingerprint != self._fingerprint:
                self._load(conn)
                self._fingerprint = fingerprint

    def _load(self, conn) -> None:
        """Apply what changed since the last load: versions first, content only of those."""
        current = {fhir_id: version_id for fhir_id, version_id in conn.execute(LIVE)}
        for fhir_id, (version_id, url) in list(self._installed.items()):
            if current.get(fhir_id) != version_id:
                if url:
                    self.registry.remove(url)
                del self._installed[fhir_id]
        new = [fhir_id for fhir_id in current if fhir_id not in self._installed]
        for start in range(0, len(new), 500):
            for fhir_id, content in conn.execute(CONTENT.where(R.c.fhir_id.in_(new[start:start + 500]))):
                self._installed[fhir_id] = (current[fhir_id], self._install(fhir_id, jsonio.loads(content)))
        log.info("search parameters reloaded", extra={"runtime_parameters": len(self._installed)})

    def _install(self, fhir_id: str, resource: dict) -> str | None:
        if not in_effect(resource):
            return None
        try:
            self.registry.add(resource)
        except FhirError:  # stored before validation existed, or by hand: skip, do not block
            log.warning("stored SearchParameter ignored", extra={"id": fhir_id}, exc_info=True)
            return None
        return resource["url"]


def check(uow, fhir_id: str, resource: dict) -> None:
    """Validation on write: what ``SearchRegistry.add`` checks, plus a canonical URL that no
    other stored SearchParameter has (the registry knows parameters by url)."""
    parse_search_parameter(resource, require_expression=False)
    url = resource["url"]
    uow.flush()  # earlier entries of the same transaction Bundle count too
    same_url = (
        select(R.c.fhir_id)
        .join(IdxUri, IdxUri.pid == R.c.pid)
        .where(IdxUri.resource_type == SEARCH_PARAMETER, IdxUri.param == "url", IdxUri.uri == url,
               R.c.fhir_id != fhir_id, R.c.deleted.is_(False))
        .limit(1)
    )
    other = uow.conn.execute(same_url).scalar()
    if other is not None:
        raise Unprocessable(f"SearchParameter/{other} already has the url {url!r}", expression="SearchParameter.url")
