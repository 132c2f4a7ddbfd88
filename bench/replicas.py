"""Replicas on one PostgreSQL database: 50 clients against one replica, then spread over three.

Builds the demo knowledge base into a fresh PostgreSQL database, starts three `stellwerk
serve` processes on loopback (each with its own data folder, sharing only the database)
and runs, in the same run, the same load twice for `--seconds` each: every client sends
searches one after another (a demo ticket's title as the query), first all of them to one
replica (the baseline), then spread round-robin over the three. Prints requests, errors,
throughput, p50 and p95 of both and their ratios; the target is 0 errors. On a machine
with fewer cores than replicas the ratio shows what spreading costs or saves, not scaling.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.common import (
    MODEL_CACHE,
    REPO_ROOT,
    format_table,
    load_note,
    percentile,
    print_json_line,
)
from bench.console_latency import tickets
from bench.service import VENV_BIN, running_services

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50, help="Concurrent clients.")
    parser.add_argument("--seconds", type=float, default=60.0, help="Length of each run.")
    parser.add_argument("--replicas", type=int, default=3, help="Replicas of the spread run.")
    parser.add_argument("--postgres-url", default=ADMIN_URL, help="A database to create in.")
    return parser.parse_args()


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database for the run, dropped afterwards; its URL."""
    name = f"stellwerk_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def build_demo(env: dict[str, str]) -> str:
    """`stellwerk demo` into the shared database; the demo agent's key it printed."""
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "app", "demo"],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("demo-agent") and " key " in line:
            return line.rsplit(" ", 1)[1]
    raise RuntimeError(f"no demo-agent key in: {done.stdout}")


@dataclass
class Run:
    """What the clients of one run saw."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        ms = [latency * 1000 for latency in self.latencies]
        return {
            "requests": len(self.latencies),
            "errors": len(self.errors),
            "rps": round(len(self.latencies) / self.seconds, 2),
            "p50_ms": round(percentile(ms, 0.5), 1),
            "p95_ms": round(percentile(ms, 0.95), 1),
        }

    def row(self, label: str) -> list[object]:
        return [label, *self.figures().values()]


async def _client(
    base_url: str, key: str, queries: list[str], offset: int, deadline: float, run: Run
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120.0) as client:
        position = offset
        while time.monotonic() < deadline:
            body = {"query": queries[position % len(queries)], "k": 5}
            position += 1
            started = time.perf_counter()
            try:
                response = await client.post("/api/v1/search", json=body)
            except httpx.TransportError as exc:
                run.errors.append(type(exc).__name__)
                continue
            if response.status_code != 200:
                run.errors.append(str(response.status_code))
                continue
            run.latencies.append(time.perf_counter() - started)


async def _load(base_urls: list[str], key: str, clients: int, seconds: float) -> Run:
    """`clients` clients, client i on replica i mod n, for `seconds`."""
    queries = [title for title, _ in tickets()]
    run = Run()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _client(base_urls[i % len(base_urls)], key, queries, i * 7, deadline, run)
            for i in range(clients)
        )
    )
    run.seconds = time.monotonic() - started
    return run


def measure(base_urls: list[str], key: str, clients: int, seconds: float) -> tuple[Run, Run]:
    asyncio.run(_load(base_urls, key, clients, min(seconds, 5.0)))  # warm every replica
    one = asyncio.run(_load(base_urls[:1], key, clients, seconds))
    spread = asyncio.run(_load(base_urls, key, clients, seconds))
    return one, spread


def main() -> None:
    args = parse_args()
    print(load_note())
    with (
        tempfile.TemporaryDirectory(prefix="stellwerk-bench-replicas-") as folder,
        fresh_database(args.postgres_url) as database_url,
    ):
        root = Path(folder)
        shared = {
            "STELLWERK_DATABASE_URL": database_url,
            "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
            # The load comes from one key: its own limits are not what is measured.
            "STELLWERK_KEY_REQUESTS_PER_MINUTE": "0",
            "STELLWERK_KEY_MAX_IN_FLIGHT": str(args.clients),
        }
        key = build_demo({**shared, "STELLWERK_DATA_DIR": str(root / "r0")})
        environments = [
            {**shared, "STELLWERK_DATA_DIR": str(root / f"r{i}")} for i in range(args.replicas)
        ]
        logs = [root / f"replica-{i}.log" for i in range(args.replicas)]
        with running_services(environments, logs, key) as services:
            startup = max(service.startup_seconds for service in services)
            one, spread = measure(
                [service.base_url for service in services], key, args.clients, args.seconds
            )
    print(f"{args.replicas} replicas ready {startup:.1f} s after their start (in parallel)")
    print(load_note())
    print(
        format_table(
            ["run", "requests", "errors", "req/s", "p50 ms", "p95 ms"],
            [
                one.row(f"{args.clients} clients, 1 replica (baseline)"),
                spread.row(f"{args.clients} clients over {args.replicas} replicas"),
            ],
        )
    )
    ratio = round(spread.figures()["rps"] / one.figures()["rps"], 2)
    p50_ratio = round(spread.figures()["p50_ms"] / one.figures()["p50_ms"], 2)
    print(f"throughput {args.replicas} replicas / 1 replica: {ratio}; p50 ratio: {p50_ratio}")
    print(f"errors: {len(one.errors) + len(spread.errors)} (target 0) on {os.cpu_count()} cores")
    print_json_line(
        "replicas",
        {
            "clients": args.clients,
            "seconds": args.seconds,
            "replicas": args.replicas,
            "one_replica": one.figures(),
            "spread": spread.figures(),
            "throughput_ratio": ratio,
            "p50_ratio": p50_ratio,
        },
    )


if __name__ == "__main__":
    main()
