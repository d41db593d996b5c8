"""Which active subscriptions a set of writes concerns, decided by the search engine.

Matching reuses the search engine, not a second matcher: per subscription, one
``Type?<criteria or filters>&_id=<ids written>`` search, made *as the subscription's
creator* (their recorded grants narrow it as they narrow any search of theirs), tells
which of the writes it selects. It runs inside the writing transaction, once every
write is flushed and just before COMMIT (server.subscriptions.listener), so the index
it searches is exactly the versions written: a resource updated again a moment later is
matched on each version, not on whichever is current when a worker gets to it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select

from ..authz.access import Access, acting_as
from ..errors import FhirError
from ..search.service import find_ids
from ..storage.models import Resource
from . import grants
from .models import SubscriptionState
from .spec import Spec, parse

log = logging.getLogger("passerelle.subscriptions")
S, R = SubscriptionState.__table__, Resource.__table__
ACTIVE = "active"


@dataclass(frozen=True)
class Write:
    """One recorded write: what the outbox row will say."""

    resource_type: str
    fhir_id: str
    version_id: int
    action: str  # create | update | delete
    topics: tuple[str, ...]  # canonicals of the topics it triggers


@dataclass(frozen=True)
class Active:
    id: str
    spec: Spec
    access: Access
    access_text: str  # as recorded: with the search, what decides a match


class ParsedCache:
    """Parsed active subscriptions by (id, version, recorded grants): a subscription is
    read and parsed again only when it changed, not in every writing transaction."""

    LIMIT = 10_000

    def __init__(self):
        self._parsed: dict[tuple[str, int, str], Active] = {}
        self._lock = threading.Lock()

    def get(self, uow, row, known_types: frozenset[str]) -> Active | None:
        key = (row.subscription_id, row.version_id, row.access)
        with self._lock:
            found = self._parsed.get(key)
        if found is not None:
            return found
        try:
            resource = uow.read("Subscription", row.subscription_id).resource()
            spec = parse(resource, allowed_hosts=None, known_types=known_types)
        except FhirError as exc:  # deleted meanwhile, or no longer valid: it matches nothing
            # The issue code and element only: criteria may hold identifiers or names.
            log.warning("Subscription/%s skipped: %s at %s", row.subscription_id, exc.code,
                        ", ".join(exc.expression) or "Subscription")
            return None
        active = Active(row.subscription_id, spec, grants.loads(row.access), row.access)
        with self._lock:
            if len(self._parsed) >= self.LIMIT:
                self._parsed.clear()
            self._parsed[key] = active
        return active


def active_subscriptions(uow, resource_type: str, known_types: frozenset[str], cache: ParsedCache) -> list[Active]:
    rows = uow.conn.execute(
        select(S.c.subscription_id, S.c.access, R.c.version_id)
        .join(R, and_(R.c.resource_type == "Subscription", R.c.fhir_id == S.c.subscription_id))
        .where(S.c.resource_type == resource_type, S.c.status == ACTIVE).order_by(S.c.subscription_id)).all()
    return [a for row in rows if (a := cache.get(uow, row, known_types)) is not None]


def concerns(sub: Active, write: Write, now: datetime) -> bool:
    if sub.spec.ended(now):
        return False
    if sub.spec.topic is None:
        return write.action != "delete"  # R4: criteria apply to the new content
    return sub.spec.topic.canonical in write.topics


def selected(uow, sub: Active, resource_type: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` the subscription's criteria (or filters) select, searched as its creator."""
    if not ids:
        return set()
    params = [*sub.spec.search, ("_id", ",".join(sorted(ids)))]
    try:
        with acting_as(sub.access):
            return {fhir_id for fhir_id, _ in find_ids(uow, resource_type, params, strict=False, limit=len(ids))}
    except FhirError as exc:  # e.g. a criteria parameter since removed: never fail the write for it
        log.warning("Subscription/%s: criteria could not be evaluated (%s)", sub.id, exc.code)
        return set()


def match(uow, writes: list[Write], known_types: frozenset[str], cache: ParsedCache) -> list[tuple[Write, list[str]]]:
    """Each write with the ids of the active subscriptions that select it (writes no
    subscription selects are left out). Subscriptions with the same criteria and grants
    share one search."""
    found: dict[int, list[str]] = {}
    for resource_type in dict.fromkeys(w.resource_type for w in writes):
        of_type = [(n, w) for n, w in enumerate(writes) if w.resource_type == resource_type]
        searched: dict[tuple, set[str]] = {}
        for sub in active_subscriptions(uow, resource_type, known_types, cache):
            candidates = [(n, w) for n, w in of_type if concerns(sub, w, uow.now)]
            ids = frozenset(w.fhir_id for _, w in candidates)
            key = (sub.spec.search, sub.access_text, ids)
            if key not in searched:
                searched[key] = selected(uow, sub, resource_type, set(ids))
            for n, w in candidates:
                if w.fhir_id in searched[key]:
                    found.setdefault(n, []).append(sub.id)
    return [(writes[n], found[n]) for n in sorted(found)]
