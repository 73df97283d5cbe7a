"""A per-client rate limit for the events endpoint, kept in memory (one per worker process).

Events are cheap to forge, so one client (a script, a misbehaving page) must not flood the table.
The key is whatever the caller names the client by (the web layer uses the address); it lives only
in this process's memory for a minute and is never written anywhere. A token bucket: ``rate``
events a minute on average, bursts up to the same amount.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SWEEP_EVERY = 60.0


class RateLimiter:
    """``allow(key, n)`` spends ``n`` tokens of ``key``'s bucket, or refuses without spending."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)
        self._lock = threading.Lock()
        self._swept = clock()

    def allow(self, key: str, n: int = 1) -> bool:
        if self.capacity <= 0:
            return True  # the limit is off
        now = self.clock()
        with self._lock:
            if now - self._swept > SWEEP_EVERY:
                self._sweep(now)
            tokens, updated = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - updated) * self.refill)
            if tokens < n:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - n, now)
            return True

    def _sweep(self, now: float) -> None:
        # A bucket idle long enough to be full again carries no information: forget the client.
        full_after = self.capacity / self.refill if self.refill else 0.0
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        self._swept = now

    def __len__(self) -> int:
        return len(self._buckets)
