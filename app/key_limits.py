"""Per-key limits on the expensive endpoints (search, suggest): a rate and a queue.

A key may send `per_minute` requests a minute (a token bucket holding `burst`); more get
429 with Retry-After. At most `in_flight` of its requests run at once; the next ones wait
up to `queue_seconds` for a turn and then get 503 with Retry-After. Waiting happens on the
event loop, so a queued request holds no worker thread and cannot make other keys wait.
Counted per process: with several replicas each counts alone.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from app.errors import Overloaded, TooManyRequests


@dataclass
class _KeyState:
    tokens: float
    at: float
    slots: asyncio.Semaphore


@dataclass
class KeyLimits:
    """Rate and concurrency per key; `per_minute` 0 turns the rate limit off."""

    per_minute: float
    burst: int
    in_flight: int
    queue_seconds: float
    _keys: dict[str, _KeyState] = field(default_factory=dict)

    def _state(self, key: str, now: float) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = _KeyState(float(self.burst), now, asyncio.Semaphore(self.in_flight))
            self._keys[key] = state
        return state

    def _spend(self, state: _KeyState, now: float) -> None:
        if self.per_minute <= 0:
            return
        refill = self.per_minute / 60.0
        state.tokens = min(float(self.burst), state.tokens + (now - state.at) * refill)
        state.at = now
        if state.tokens < 1.0:
            wait = math.ceil((1.0 - state.tokens) / refill)
            raise TooManyRequests(
                f"More than {self.per_minute:g} requests a minute with this key; slow down.",
                headers={"Retry-After": str(max(1, wait))},
            )
        state.tokens -= 1.0

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Spend one request of the key's rate and hold one of its slots meanwhile."""
        now = time.monotonic()
        state = self._state(key, now)
        self._spend(state, now)
        try:
            async with asyncio.timeout(self.queue_seconds):
                await state.slots.acquire()
        except TimeoutError:
            raise Overloaded(
                f"This key already has {self.in_flight} requests running; try again shortly.",
                headers={"Retry-After": str(max(1, math.ceil(self.queue_seconds)))},
            ) from None
        try:
            yield
        finally:
            state.slots.release()
