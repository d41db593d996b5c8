"""The store listener: Subscription writes checked, watched writes put in the outbox.

Both happen inside the write's own transaction, so nothing is half-done:

- a Subscription written by a client is parsed (server.subscriptions.spec: criteria or
  topic, rest-hook channel, endpoint on the allow-list), its creator must be able to read
  what it watches, and its state row keeps the creator's grants (server.subscriptions.grants).
  A requested (or changed) one is stored as ``requested`` with a handshake queued; the
  delivery worker makes it ``active`` once the endpoint answered, or ``error``.
- a write of a type some active subscription watches is noted (which topics it triggers
  is decided here, where the previous version is at hand); just before COMMIT, with every
  write of the transaction flushed, the notes are matched against criteria and filters
  by the search engine (server.subscriptions.matching) and each matched write becomes a
  ``subscription_event`` row (the outbox), committed with the write or not at all.
  Numbering and queueing the notifications is the worker's job after commit.

Nothing here touches the network: delivery lives in interfaces.subscriptions.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, insert, select, update

from ..authz.access import current
from ..errors import Forbidden, FhirError, Unprocessable
from ..search import service
from . import grants, spec
from .matching import ParsedCache, Write, match
from .models import FAILED, HANDSHAKE, PENDING, SubscriptionEvent, SubscriptionNotification, SubscriptionState
from .topics import triggered

E, N, S = SubscriptionEvent.__table__, SubscriptionNotification.__table__, SubscriptionState.__table__
ACTIVE, REQUESTED, OFF, ERROR, DELETED = "active", "requested", "off", "error", "deleted"
_server_write: ContextVar[bool] = ContextVar("subscription_server_write", default=False)


@contextmanager
def server_write() -> Iterator[None]:
    """The delivery worker's own Subscription updates (activation, error): they change the
    status only and keep the recorded grants of the subscription's creator."""
    token = _server_write.set(True)
    try:
        yield
    finally:
        _server_write.reset(token)


class SubscriptionListener:
    def __init__(self, settings, known_types: frozenset[str]):
        self.allowed_hosts = spec.allowed(settings.subscription_hosts)
        self.known_types = known_types
        self.wake = threading.Event()  # set after a commit that queued something to deliver
        self._watchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # uow -> {type: topics}
        self._waking: weakref.WeakSet = weakref.WeakSet()  # units of work that will set ``wake``
        self._writes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # uow -> [Write] to match
        self._parsed = ParsedCache()
        self._lock = threading.Lock()

    # -- StoreListener -------------------------------------------------------------------

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if resource_type == "Subscription":
            self._subscription(uow, fhir_id, resource)
        watching = self._watching(uow, resource_type)
        if watching:
            self._record(uow, resource_type, fhir_id, resource, watching)

    # -- Subscriptions -------------------------------------------------------------------

    def _subscription(self, uow, fhir_id: str, resource: dict | None) -> None:
        state = uow.conn.execute(select(S).where(S.c.subscription_id == fhir_id)).first()
        if resource is None:
            if state is not None:
                uow.conn.execute(update(S).where(S.c.subscription_id == fhir_id).values(status=DELETED))
            return
        if _server_write.get():
            if state is not None:
                uow.conn.execute(update(S).where(S.c.subscription_id == fhir_id).values(
                    status=resource.get("status"), error=resource.get("error")))
            return
        parsed = spec.parse(resource, allowed_hosts=self.allowed_hosts, known_types=self.known_types)
        access = current()
        if not (access.allows("r", parsed.resource_type) and access.allows("s", parsed.resource_type)):
            raise Forbidden(f"A Subscription on {parsed.resource_type} needs read and search access to it "
                            f"(e.g. user/{parsed.resource_type}.rs)")
        # Criteria and filters are searches: unknown parameters are refused now, not at the first event.
        try:
            service.parse(uow, parsed.resource_type, list(parsed.search), strict=True)
        except FhirError as exc:
            raise Unprocessable(f"Subscription criteria: {exc.diagnostics}", code=exc.code,
                                expression="Subscription.criteria") from exc
        status = resource.get("status")
        if status == ERROR and not (state is not None and state.status == ERROR):  # kept as is: fine
            raise Unprocessable("Subscription.status 'error' is set by the server; a client asks for "
                                "'requested' (or 'off')", expression="Subscription.status")
        handshake = False
        if status in (REQUESTED, ACTIVE):
            unchanged = state is not None and state.status == ACTIVE and _same_channel(uow, fhir_id, resource)
            if not unchanged:
                resource["status"] = REQUESTED  # the handshake decides
                resource.pop("error", None)
                handshake = True
        values = dict(status=resource["status"], resource_type=parsed.resource_type,
                      topic=parsed.topic.canonical if parsed.topic else None, access=grants.dumps(access),
                      heartbeat_seconds=parsed.heartbeat_seconds,
                      error=None if handshake else (state.error if state is not None else None))
        if state is None:
            uow.conn.execute(insert(S).values(subscription_id=fhir_id, events_since_start=0, **values))
        else:
            uow.conn.execute(update(S).where(S.c.subscription_id == fhir_id).values(**values))
        # A handshake still queued for an earlier version is superseded by this one.
        uow.conn.execute(update(N).where(N.c.subscription_id == fhir_id, N.c.kind == HANDSHAKE,
                                         N.c.state == PENDING).values(state=FAILED, error="superseded"))
        if handshake:
            number = state.events_since_start if state is not None else 0
            uow.conn.execute(insert(N).values(subscription_id=fhir_id, kind=HANDSHAKE, event_number=number,
                                              occurred=uow.now, state=PENDING, attempts=0, next_attempt=uow.now))
            self._wake_after_commit(uow)

    # -- the outbox ----------------------------------------------------------------------

    def _watching(self, uow, resource_type: str) -> set[str | None]:
        """Topics (None: R4 criteria) of the active subscriptions on this type. Every type's
        are read at the first write of a unit of work, in one query: an HL7 message writes
        four types, and most transactions none that anyone watches."""
        with self._lock:  # units of work run on many threads; the weak map is not thread-safe
            known = self._watchers.get(uow)
        if known is None:
            known = {}
            for watched_type, topic in uow.conn.execute(
                    select(S.c.resource_type, S.c.topic).where(S.c.status == ACTIVE).distinct()):
                known.setdefault(watched_type, set()).add(topic)
            with self._lock:
                self._watchers[uow] = known
        return known.get(resource_type, set())

    def _record(self, uow, resource_type: str, fhir_id: str, resource: dict | None,
                watching: set[str | None]) -> None:
        version = uow.count_versions(resource_type, fhir_id) + 1
        action = "delete" if resource is None else "create" if version == 1 else "update"
        topics: list[str] = []
        if watching - {None}:
            topics = [t for t in triggered(resource_type, _previous(uow, resource_type, fhir_id, version), resource)
                      if t in watching]
        # R4 criteria apply to the new content: a delete notifies no criteria subscription.
        if not topics and (None not in watching or resource is None):
            return
        with self._lock:
            writes = self._writes.get(uow)
            if writes is None:
                writes = self._writes[uow] = []
                # Matched just before COMMIT, once every write of the transaction is flushed:
                # the search then sees exactly the versions written (server.subscriptions.matching).
                # SQLAlchemy's "commit" event on this unit of work's connection fires right before
                # the COMMIT is sent (the unit of work has no before-commit hook of its own).
                event.listen(uow.conn, "commit", lambda _conn: self._before_commit(uow, writes), once=True)
        writes.append(Write(resource_type, fhir_id, version, action, tuple(topics)))

    def _before_commit(self, uow, writes: list[Write]) -> None:
        matched = match(uow, writes, self.known_types, self._parsed)
        if not matched:
            return
        uow.conn.execute(insert(E), [
            dict(resource_type=w.resource_type, fhir_id=w.fhir_id, version_id=w.version_id, action=w.action,
                 subscriptions=" ".join(ids), recorded=uow.now, state=PENDING) for w, ids in matched])
        self._wake_after_commit(uow)

    def _wake_after_commit(self, uow) -> None:
        with self._lock:
            if uow in self._waking:
                return
            self._waking.add(uow)
        uow.after_commit.append(self.wake.set)


def _previous(uow, resource_type: str, fhir_id: str, version: int) -> dict | None:
    if version == 1:
        return None
    try:
        return uow.vread(resource_type, fhir_id, version - 1).resource()
    except FhirError:  # the previous version is a deletion
        return None


def _same_channel(uow, fhir_id: str, resource: dict) -> bool:
    """Same criteria, filters and channel as the stored version: an active subscription
    whose client only touched other elements (end, reason) stays active, no new handshake."""
    try:
        stored = uow.read("Subscription", fhir_id).resource()
    except FhirError:
        return False
    keys = ("criteria", "_criteria", "channel")
    return all(stored.get(k) == resource.get(k) for k in keys)
