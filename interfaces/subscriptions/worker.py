"""The delivery worker: fan out recorded writes, then send due notifications over HTTP.

One thread per API process (started in the app's lifespan); several processes share the
queues through the database (server.subscriptions.queue: claims with SKIP LOCKED and a
lease). It wakes when a commit queued something (the listener's ``wake``) and otherwise
polls, which also brings back retries whose backoff has run out.

A notification succeeds on any 2xx answer. Redirects are not followed (the allow-list
names the hosts that may receive data). Logs carry subscription ids, event numbers,
hosts and HTTP statuses: never headers or content.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from server.context import AppContext
from server.inbox.redact import where
from server.subscriptions import SubscriptionListener, delivery, fan_out, queue_heartbeats
from server.subscriptions.spec import allowed

log = logging.getLogger("passerelle.subscriptions")


class DeliveryWorker:
    def __init__(self, ctx: AppContext, listener: SubscriptionListener, *, poll_seconds: float = 1.0,
                 batch: int = 20, senders: int = 4):
        self.ctx = ctx
        self.listener = listener
        self.poll_seconds = poll_seconds
        self.batch = batch
        settings = ctx.settings
        self.allowed_hosts = allowed(settings.subscription_hosts)
        self.lease_seconds = 2 * settings.subscription_timeout_seconds + 30
        self._http = httpx.Client(timeout=settings.subscription_timeout_seconds, follow_redirects=False)
        # A claimed batch holds at most one event per subscription (they go out in order), so its
        # requests may run in parallel: a slow or dead endpoint does not hold up the others.
        self._senders = ThreadPoolExecutor(senders, thread_name_prefix="subscription-send")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="subscription-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self.listener.wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._senders.shutdown(wait=True)
        self._http.close()

    def run_once(self) -> int:
        """Fan out one batch of recorded writes, queue due heartbeats and send one batch of
        due notifications; returns how much was done (0: nothing due)."""
        matched = fan_out(self.ctx.store, batch=self.batch * 5)
        matched += queue_heartbeats(self.ctx.store)
        items = delivery.claim(self.ctx.store, lease_seconds=self.lease_seconds, limit=self.batch)
        list(self._senders.map(self._send, items))
        return matched + len(items)

    def _send(self, item) -> None:
        settings = self.ctx.settings
        try:
            outbound = delivery.prepare(self.ctx.store, item, base=settings.base_url.rstrip("/"),
                                        allowed_hosts=self.allowed_hosts, known_types=self.ctx.resource_types)
        except delivery.Undeliverable as exc:
            delivery.failed(self.ctx.store, item, str(exc), settings)
            return
        try:
            response = self._http.request(outbound.method, outbound.url, headers=list(outbound.headers),
                                          content=outbound.body)
        except httpx.HTTPError as exc:
            delivery.failed(self.ctx.store, item, f"{outbound.host}: {type(exc).__name__}", settings)
            return
        if 200 <= response.status_code < 300:
            delivery.succeeded(self.ctx.store, item)
            log.info("Subscription/%s: %s %s delivered to %s", item.subscription_id, item.kind, item.event_number,
                     outbound.host)
        else:
            delivery.failed(self.ctx.store, item, f"{outbound.host} answered HTTP {response.status_code}", settings)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.listener.wake.clear()  # before the round: a commit during it wakes the next wait
            try:
                done = self.run_once()
            except Exception as exc:  # noqa: BLE001  (database down, a bug: keep the thread, retry after a pause)
                # Type and place only: a database error quotes its parameters (criteria values, content).
                log.error("subscription delivery round failed: %s", where(exc))
                done = 0
            if not done:
                self.listener.wake.wait(self.poll_seconds)


def start_for(ctx: AppContext, **options) -> DeliveryWorker | None:
    """Start the worker for the app's store (None when no SubscriptionListener is installed)."""
    listener = next((x for x in ctx.store.listeners if isinstance(x, SubscriptionListener)), None)
    if listener is None:
        return None
    worker = DeliveryWorker(ctx, listener, **options)
    worker.start()
    return worker
