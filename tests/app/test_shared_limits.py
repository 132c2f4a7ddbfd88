"""With Redis, every replica counts the same limits: failed sign-ins and per-key rates
spent on one replica are spent on all (Redis at 127.0.0.1:6379, a fresh prefix per test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from app.buckets import LocalBuckets, RedisBuckets
from app.main import create_app
from app.settings import Settings
from tests.auth_helpers import authorize, bearer
from tests.fakes import HashingEmbedder

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"stellwerk-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


@contextmanager
def _replicas(
    tmp_path: Path, prefix: str, count: int, **limits: float
) -> Iterator[list[TestClient]]:
    """`count` apps on one database and one Redis, like replicas behind a load balancer."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        _env_file=None,  # type: ignore[call-arg]
        **limits,  # type: ignore[arg-type]
    )
    embedder = HashingEmbedder()
    with ExitStack() as stack:
        clients = [
            stack.enter_context(TestClient(create_app(settings, embedder=embedder)))
            for _ in range(count)
        ]
        keys = authorize(clients[0])
        for client in clients[1:]:
            client.app.state.test_keys = keys  # type: ignore[attr-defined]
            client.headers["Authorization"] = f"Bearer {keys['admin']}"
        yield clients


def test_failed_sign_ins_count_across_replicas(tmp_path: Path, prefix: str) -> None:
    limits = {"auth_failure_burst": 3, "auth_failure_refill_seconds": 60}
    with _replicas(tmp_path, prefix, 2, **limits) as (first, second):
        wrong = bearer("sw_" + "q" * 43)
        codes = [
            replica.get("/api/v1/articles", headers=wrong).status_code
            for replica in (first, second, first, second)
        ]
        assert codes == [401, 401, 401, 429]  # alone, each replica would have allowed three
        assert second.get("/api/v1/articles").status_code == 200  # a valid key still passes


def test_a_keys_rate_counts_across_replicas(tmp_path: Path, prefix: str) -> None:
    limits = {"key_requests_per_minute": 6, "key_request_burst": 2}
    with _replicas(tmp_path, prefix, 2, **limits) as (first, second):
        search = {"query": "VPN"}
        codes = [
            replica.post("/api/v1/search", json=search).status_code
            for replica in (first, second, first)
        ]
        assert codes == [200, 200, 429]


def test_an_unreachable_redis_falls_back_to_this_process() -> None:
    buckets = RedisBuckets("redis://127.0.0.1:1/0", timeout=0.2)
    assert buckets.take("x", 2, 60, "try") == pytest.approx(2, abs=0.01)
    assert buckets.take("x", 2, 60, "try") == pytest.approx(1, abs=0.01)
    assert buckets.take("x", 2, 60, "try") < 1  # refused, counted in this process
    local = LocalBuckets()
    assert local.take("y", 1, 60, "spend") == pytest.approx(1, abs=0.01)
    assert local.take("y", 1, 60, "level") < 1
