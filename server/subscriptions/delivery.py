"""Delivery bookkeeping: what to send for a claimed notification, and what follows.

The transport (an HTTP POST or PUT) is interfaces.subscriptions'; this module reads the
store and writes the outcome:

- ``prepare``: the request for a claimed notification, built from the Subscription as
  stored now (its endpoint checked against the allow-list again: a host removed from
  PASSERELLE_SUBSCRIPTION_HOSTS receives nothing more) and the version that triggered it;
- ``succeeded``: the notification is delivered; a handshake makes the Subscription active;
- ``failed``: retried after a backoff, or, after the last attempt, the notification is
  failed and the Subscription goes to ``error`` with the reason (``$status`` shows it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update

from .. import jsonio
from ..errors import FhirError
from ..storage.db import WRITE
from ..storage.repository import utcnow
from . import notification, queue, spec
from .listener import ACTIVE, ERROR, REQUESTED, server_write
from .models import EVENT, HANDSHAKE, HEARTBEAT, SubscriptionState
from .queue import Claimed

log = logging.getLogger("passerelle.subscriptions")
S = SubscriptionState.__table__
FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Outbound:
    method: str  # POST | PUT
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"


class Undeliverable(Exception):
    """Nothing can be sent for this notification (a reason with no patient data)."""


def claim(store, *, lease_seconds: float, limit: int) -> list[Claimed]:
    with store.engine.connect() as conn:
        if not queue.due(conn, now=utcnow()):
            return []
    with store.engine.execution_options(**WRITE).begin() as conn:
        return queue.claim(conn, now=utcnow(), lease_seconds=lease_seconds, limit=limit)


def prepare(store, item: Claimed, *, base: str, allowed_hosts: frozenset[str],
            known_types: frozenset[str]) -> Outbound:
    with store.read() as uow:
        try:
            resource = uow.read("Subscription", item.subscription_id).resource()
        except FhirError as exc:
            raise Undeliverable("the Subscription is deleted") from exc
        try:
            parsed = spec.parse(resource, allowed_hosts=allowed_hosts, known_types=known_types)
        except FhirError as exc:
            raise Undeliverable(exc.diagnostics) from exc
        state = uow.conn.execute(select(S).where(S.c.subscription_id == item.subscription_id)).one()
        headers = parsed.headers
        if item.kind == HANDSHAKE:
            if not parsed.bundled:  # R4 core: a ping, no body
                return Outbound("POST", parsed.endpoint, headers, None)
            body = notification.bundle(base=base, subscription_id=item.subscription_id, topic=state.topic,
                                       status=REQUESTED, kind=HANDSHAKE, events_since_start=state.events_since_start,
                                       now=uow.now)
            return Outbound("POST", parsed.endpoint, _json(headers), jsonio.dumps(body))
        if item.kind == HEARTBEAT:
            body = notification.bundle(base=base, subscription_id=item.subscription_id, topic=state.topic,
                                       status=ACTIVE, kind=HEARTBEAT, events_since_start=state.events_since_start,
                                       now=uow.now)
            return Outbound("POST", parsed.endpoint, _json(headers), jsonio.dumps(body))
        content = None
        if parsed.content == "full-resource":
            try:
                content = uow.vread(item.resource_type, item.fhir_id, item.version_id).resource()
            except FhirError:
                content = None  # a deletion: the entry names it without content
        if not parsed.bundled:
            if content is None:
                return Outbound("POST", parsed.endpoint, headers, None)
            url = f"{parsed.endpoint.rstrip('/')}/{item.resource_type}/{item.fhir_id}"
            return Outbound("PUT", url, _json(headers), jsonio.dumps(content))
        event = notification.Event(item.event_number, item.occurred, item.resource_type, item.fhir_id, item.action,
                                   content)
        # eventsSinceSubscriptionStart as of this event (inclusive): later ones may be queued already.
        body = notification.bundle(base=base, subscription_id=item.subscription_id, topic=state.topic, status=ACTIVE,
                                   kind=item.kind, events_since_start=item.event_number, events=[event],
                                   content=parsed.content, now=uow.now)
        return Outbound("POST", parsed.endpoint, _json(headers), jsonio.dumps(body))


def _json(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return (("Content-Type", FHIR_JSON), *headers)


def succeeded(store, item: Claimed) -> None:
    with server_write(), store.write() as uow:
        if not queue.delivered(uow.conn, item, now=uow.now):
            return  # another worker holds it now (our lease ran out): its outcome counts
        uow.conn.execute(update(S).where(S.c.subscription_id == item.subscription_id).values(error=None,
                                                                                           last_sent=uow.now))
        if item.kind == HANDSHAKE:
            _set_status(uow, item.subscription_id, ACTIVE, expected=REQUESTED)


def failed(store, item: Claimed, reason: str, settings) -> None:
    """One failed attempt (``reason``: an HTTP status or network error, never content)."""
    what = f"event {item.event_number}" if item.kind == EVENT else item.kind
    with server_write(), store.write() as uow:
        gave_up = queue.failed(uow.conn, item, reason, now=uow.now, max_attempts=settings.subscription_max_attempts,
                               base_seconds=settings.subscription_retry_seconds,
                               cap_seconds=settings.subscription_retry_cap_seconds)
        if gave_up is None:
            return
        summary = f"{what} not delivered after {item.attempts} attempt(s): {reason}"
        uow.conn.execute(update(S).where(S.c.subscription_id == item.subscription_id).values(error=summary))
        if gave_up:
            _set_status(uow, item.subscription_id, ERROR, error=summary)
    if gave_up:
        log.warning("Subscription/%s set to error: %s", item.subscription_id, summary)
    else:
        log.info("Subscription/%s: %s, will retry", item.subscription_id, summary)


def _set_status(uow, subscription_id: str, status: str, *, expected: str | None = None,
                error: str | None = None) -> None:
    try:
        stored = uow.read("Subscription", subscription_id).resource()
    except FhirError:
        return
    if expected is not None and stored.get("status") != expected:
        return  # the client changed it meanwhile (off, or a new request with its own handshake)
    stored["status"] = status
    if error is not None:
        stored["error"] = error
    else:
        stored.pop("error", None)
    uow.update(stored, subscription_id)
