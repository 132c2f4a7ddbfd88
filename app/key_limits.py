"""Per-key limits on the expensive endpoints (search, suggest): a rate and a queue.

A key may send `per_minute` requests a minute (a token bucket holding `burst`); more get
429 with Retry-After. The rate's buckets are `app.buckets`: with Redis configured every
replica counts together. At most `in_flight` of a key's requests run at once in this
replica (the slots guard its own cores); the next ones wait up to `queue_seconds` for a
turn and then get 503 with Retry-After. Waiting happens on the event loop, so a queued
request holds no worker thread and cannot make other keys wait.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from app.buckets import Buckets, LocalBuckets
from app.errors import Overloaded, TooManyRequests


@dataclass
class KeyLimits:
    """Rate and concurrency per key; `per_minute` 0 turns the rate limit off."""

    per_minute: float
    burst: int
    in_flight: int
    queue_seconds: float
    buckets: Buckets = field(default_factory=LocalBuckets)
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    async def _spend(self, key: str) -> None:
        if self.per_minute <= 0:
            return
        per_token = 60.0 / self.per_minute
        take = self.buckets.take
        args = (f"rate:{key}", float(self.burst), per_token, "try")
        # Redis is a network call: off the event loop. The local buckets are a dict lookup.
        local = isinstance(self.buckets, LocalBuckets)
        tokens = take(*args) if local else await asyncio.to_thread(take, *args)  # type: ignore[arg-type]
        if tokens < 1.0:
            wait = math.ceil((1.0 - tokens) * per_token)
            raise TooManyRequests(
                f"More than {self.per_minute:g} requests a minute with this key; slow down.",
                headers={"Retry-After": str(max(1, wait))},
            )

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Spend one request of the key's rate and hold one of its slots meanwhile."""
        await self._spend(key)
        slots = self._slots.setdefault(key, asyncio.Semaphore(self.in_flight))
        try:
            async with asyncio.timeout(self.queue_seconds):
                await slots.acquire()
        except TimeoutError:
            raise Overloaded(
                f"This key already has {self.in_flight} requests running; try again shortly.",
                headers={"Retry-After": str(max(1, math.ceil(self.queue_seconds)))},
            ) from None
        try:
            yield
        finally:
            slots.release()
