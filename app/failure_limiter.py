"""Failed authentications spend a token bucket per name the caller chooses (app.auth names
them by client address and presented key prefix); in this process or in Redis (app.buckets)."""

from __future__ import annotations

from app.buckets import Buckets, LocalBuckets


class FailureLimiter:
    """Token buckets spent by failed authentications only.

    With `LocalBuckets` each replica counts for itself (N replicas allow N times the rate);
    with `RedisBuckets` all replicas share one count.
    """

    def __init__(
        self, *, burst: int, refill_seconds: float, buckets: Buckets | None = None
    ) -> None:
        self.burst = burst
        self.refill_seconds = refill_seconds
        self._buckets = buckets or LocalBuckets()

    def retry_after(self, client: str) -> float | None:
        """Seconds until the client may try again, or None if it may try now."""
        tokens = self._buckets.take(f"auth:{client}", self.burst, self.refill_seconds, "level")
        if tokens >= 1.0:
            return None
        return (1.0 - tokens) * self.refill_seconds

    def failed(self, client: str) -> None:
        self._buckets.take(f"auth:{client}", self.burst, self.refill_seconds, "spend")
