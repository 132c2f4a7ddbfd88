"""Token buckets by name, in this process or shared by every replica through Redis.

A bucket holds up to `burst` tokens and gains one every `seconds_per_token`. The limits
(failed sign-ins, per-key request rates) ask it three things: how full is it (`level`),
spend one whatever the level, floored at zero (`spend`), and spend one only if there is one
(`try_take`). With `STELLWERK_REDIS_URL` set the buckets live in Redis and every replica
counts together; each operation is one Lua script, atomic and timed by Redis's clock. If
Redis cannot be reached the limits fall back to this process's buckets (logged), so an
outage weakens a limit instead of failing requests.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Literal, Protocol

log = logging.getLogger("stellwerk.limits")

Operation = Literal["level", "spend", "try"]


class Buckets(Protocol):
    def take(self, name: str, burst: float, seconds_per_token: float, op: Operation) -> float:
        """The tokens before the operation (`level` spends nothing)."""
        ...


class LocalBuckets:
    """Buckets of this process only; forgets full ones when there are too many."""

    MAX_BUCKETS = 10_000

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, name: str, burst: float, seconds_per_token: float, op: Operation) -> float:
        with self._lock:
            now = time.monotonic()
            tokens, at = self._buckets.get(name, (burst, now))
            if seconds_per_token <= 0:
                tokens = burst
            else:
                tokens = min(burst, tokens + (now - at) / seconds_per_token)
            if op == "spend" or (op == "try" and tokens >= 1.0):
                if len(self._buckets) >= self.MAX_BUCKETS:
                    self._forget(now, seconds_per_token, burst)
                self._buckets[name] = (max(0.0, tokens - 1.0), now)
            return tokens

    def _forget(self, now: float, seconds_per_token: float, burst: float) -> None:
        def level(name: str) -> float:
            tokens, at = self._buckets[name]
            return tokens + (now - at) / seconds_per_token if seconds_per_token > 0 else burst

        for name in [n for n in self._buckets if level(n) >= burst]:
            del self._buckets[name]
        if len(self._buckets) >= self.MAX_BUCKETS:  # under a flood, forget the oldest half
            oldest = sorted(self._buckets, key=lambda n: self._buckets[n][1])
            for name in oldest[: len(oldest) // 2]:
                del self._buckets[name]


# KEYS[1] bucket; ARGV: burst, seconds per token, operation. Redis's clock, so replicas agree.
_SCRIPT = """
local burst = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(v[1]) or burst
local at = tonumber(v[2]) or now
if per <= 0 then tokens = burst else tokens = math.min(burst, tokens + (now - at) / per) end
if ARGV[3] == 'spend' or (ARGV[3] == 'try' and tokens >= 1) then
  redis.call('HSET', KEYS[1], 'tokens', tostring(math.max(0, tokens - 1)), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[1], math.ceil(burst * per) + 1)
end
return tostring(tokens)
"""


class RedisBuckets:
    """Buckets in Redis under `prefix:`, shared by every process that uses the same URL."""

    def __init__(self, url: str, *, prefix: str = "stellwerk", timeout: float = 0.5) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._script: Any = self._client.register_script(_SCRIPT)
        self._prefix = prefix
        self._fallback = LocalBuckets()
        self._warned = False

    def take(self, name: str, burst: float, seconds_per_token: float, op: Operation) -> float:
        try:
            value = self._script(
                keys=[f"{self._prefix}:bucket:{name}"], args=[burst, seconds_per_token, op]
            )
        except Exception as exc:  # redis raises many types; the limit must not fail requests
            if not self._warned:
                log.warning("Redis unreachable (%s); limits count in this process", type(exc))
                self._warned = True
            return self._fallback.take(name, burst, seconds_per_token, op)
        self._warned = False
        return float(value)

    def close(self) -> None:
        self._client.close()


def buckets_from(redis_url: str | None, prefix: str = "stellwerk") -> Buckets:
    return RedisBuckets(redis_url, prefix=prefix) if redis_url else LocalBuckets()
