"""A rate limit per client: a token bucket in memory, per process.

Each key (the token's client_id, else the caller's address) may spend ``per_minute``
requests a minute, refilled continuously, bursts up to the same number. Several
workers each keep their own buckets: the limit is per worker, a bound against one
runaway client rather than an exact quota.
"""

from __future__ import annotations

import math
import threading
import time

MAX_KEYS = 10_000  # buckets kept; full ones are dropped first when there are more


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Spend one request for ``key``: None if allowed, else the seconds to wait."""
        if self.per_minute <= 0:
            return None
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - when) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return max(1, math.ceil((1 - tokens) / self.rate))
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > MAX_KEYS:
                self._forget_full(now)
        return None

    def _forget_full(self, now: float) -> None:
        full = [k for k, (t, w) in self._buckets.items() if t + (now - w) * self.rate >= self.per_minute]
        for key in full:
            del self._buckets[key]
