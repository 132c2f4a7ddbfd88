"""Token buckets spent by failed authentications only, one per name the caller chooses."""

from __future__ import annotations

import threading
import time


class FailureLimiter:
    """Token buckets spent by failed authentications only; app.auth names them by client
    address and presented key prefix, so one client's failures never cost another's key.

    In-process: each replica counts for itself, so N replicas allow N times the rate; a
    shared store (Redis) would be needed to hold a common limit.
    """

    MAX_CLIENTS = 10_000

    def __init__(self, *, burst: int, refill_seconds: float) -> None:
        self.burst = burst
        self.refill_seconds = refill_seconds
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client, (float(self.burst), now))
        if self.refill_seconds <= 0:
            return float(self.burst)
        return min(float(self.burst), tokens + (now - at) / self.refill_seconds)

    def retry_after(self, client: str) -> float | None:
        """Seconds until the client may try again, or None if it may try now."""
        with self._lock:
            tokens = self._tokens(client, time.monotonic())
            if tokens >= 1.0:
                return None
            return (1.0 - tokens) * self.refill_seconds

    def failed(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            if len(self._buckets) >= self.MAX_CLIENTS:
                self._forget_recovered(now)
            self._buckets[client] = (max(0.0, self._tokens(client, now) - 1.0), now)

    def _forget_recovered(self, now: float) -> None:
        full = [c for c in self._buckets if self._tokens(c, now) >= self.burst]
        for client in full:
            del self._buckets[client]
        if len(self._buckets) >= self.MAX_CLIENTS:  # under a flood, forget the oldest
            oldest = sorted(self._buckets, key=lambda c: self._buckets[c][1])
            for client in oldest[: len(oldest) // 2]:
                del self._buckets[client]
