"""Webhook latency under load: a Zammad webhook to a stored suggestion and a queued
write-back, at a fixed arrival rate (open loop), beside plain POST /api/v1/suggest with the
same texts at the same rate in the same run, against the real service on the demo data."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import MODEL_CACHE, REPO_ROOT, percentile, print_json_line, read_jsonl
from bench.service import running_service
from db.models import OutboxItem, ToolTicket
from db.session import create_db_engine, session_factory

SECRET = "bench-webhook-secret"  # noqa: S105 - a bench fixture, not a credential
DEMO_TICKETS = REPO_ROOT / "demo" / "tickets.jsonl"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rates",
        default="20,2",
        help="Arrival rates (requests/s), comma-separated; each "
        "measures both paths, the baseline first.",
    )
    parser.add_argument("--requests", type=int, default=100, help="Measured requests per run.")
    parser.add_argument("--workdir", type=Path, help="Data folder to build in (default: temp).")
    return parser.parse_args()


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def prepare(data_dir: Path) -> tuple[dict[str, str], str]:
    """The demo knowledge base and a Zammad connector with write-back (to a dead port: the
    bench measures the webhook, not the delivery). The worker runs, as in production: it
    takes the webhooks whose suggestion missed the deadline and the pool never started;
    each note to the dead port fails once (one attempt) and is left failed."""
    env = {
        **os.environ,
        "STELLWERK_DATA_DIR": str(data_dir),
        "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "STELLWERK_CONNECTOR_WORKER": "true",
        "STELLWERK_CONNECTOR_MAX_ATTEMPTS": "1",
        "STELLWERK_LOG_LEVEL": "warning",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("STELLWERK_DATABASE_URL", None)
    printed = _cli(env, "demo")
    key = re.search(r"demo-admin key \(shown once[^)]*\): (\S+)", printed)
    if key is None:
        raise RuntimeError(f"no admin key in: {printed}")
    _cli(
        env, "connectors", "add", "zammad", "--name", "zammad", "--url", "http://127.0.0.1:9",
        "--secret", SECRET, "--token", "t", "--write-back",
        "--map", "Netzwerk=network", "--map", "Arbeitsplatz=workplace",
    )  # fmt: skip
    return env, key.group(1)


def texts() -> list[tuple[str, str]]:
    return [(r["title"], r.get("description", "")) for r in read_jsonl(DEMO_TICKETS)]


def zammad_body(number: int, title: str, description: str) -> bytes:
    """The documented trigger payload's shape (tests/fixtures/connectors/zammad_open.json)."""
    payload = {
        "ticket": {
            "id": number,
            "number": str(50_000 + number),
            "title": title,
            "state": "open",
            "group": {"name": "Service Desk"},
            "created_at": "2026-12-01T08:00:00Z",
            "updated_at": "2026-12-01T08:00:00Z",
        },
        "article": {"body": description, "internal": False, "sender": "Customer"},
    }
    return json.dumps(payload).encode()


async def open_loop(
    client: httpx.AsyncClient, requests: list[tuple[str, bytes, dict[str, str]]], rate: float
) -> tuple[list[float], float, int, int]:
    """Send request i at start + i/rate regardless of earlier answers; latency counts from
    the scheduled time (no coordinated omission). (latencies ms, seconds, failures, 202s:
    webhooks whose suggestion missed the deadline and completes from the queue)."""
    start = time.perf_counter() + 0.2
    failures = accepted = 0

    async def one(index: int, url: str, body: bytes, headers: dict[str, str]) -> float:
        nonlocal failures, accepted
        scheduled = start + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.TransportError:  # an overloaded service drops connections: a failure
            failures += 1
            return (time.perf_counter() - scheduled) * 1000
        if response.status_code == 202:
            accepted += 1
        elif response.status_code != 200:
            failures += 1
        return (time.perf_counter() - scheduled) * 1000

    latencies = await asyncio.gather(
        *(one(i, url, body, headers) for i, (url, body, headers) in enumerate(requests))
    )
    return list(latencies), time.perf_counter() - start, failures, accepted


def pending_inbound(database: Path) -> int:
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with session_factory(engine)() as session:
            query = select(func.count()).select_from(OutboxItem)
            query = query.where(OutboxItem.kind == "inbound", OutboxItem.status == "pending")
            return session.scalar(query) or 0
    finally:
        engine.dispose()


def summary(latencies: list[float], seconds: float, failures: int, queued: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "failures": failures,
        "answered_202": queued,
        "throughput": round(len(latencies) / seconds, 2),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


def main() -> None:
    args = parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="stellwerk-bench-webhook-"))
    data_dir = workdir / "data"
    env, key = prepare(data_dir)
    overrides = {
        k: v for k, v in env.items() if k.startswith("STELLWERK_") or k == "HF_HUB_OFFLINE"
    }
    corpus = texts()
    rates = [float(rate) for rate in args.rates.split(",")]
    runs: list[dict[str, Any]] = []
    with running_service(overrides, workdir / "service.log", key) as service:
        base = f"{service.base_url}/api/v1"
        numbers = iter(range(1, 10**6))
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)

        async def run() -> None:
            async with httpx.AsyncClient(timeout=120, limits=limits) as client:
                warm = [(f"{base}/suggest", json.dumps({"title": t, "description": d}).encode(),
                         {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                        for t, d in corpus[:10]]  # fmt: skip
                await open_loop(client, warm, 2.0)
                for round_, rate in enumerate(rates):
                    for path in ("suggest", "webhook"):
                        requests = []
                        for i in range(args.requests):
                            title, description = corpus[(round_ * args.requests + i) % len(corpus)]
                            if path == "suggest":
                                body = json.dumps({"title": title, "description": description})
                                headers = {"Authorization": f"Bearer {key}",
                                           "Content-Type": "application/json"}  # fmt: skip
                                requests.append((f"{base}/suggest", body.encode(), headers))
                            else:
                                raw = zammad_body(next(numbers), title, description)
                                digest = hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
                                headers = {
                                    "X-Hub-Signature": f"sha1={digest}",
                                    "X-Zammad-Delivery": hashlib.sha256(raw).hexdigest(),
                                    "Content-Type": "application/json",
                                }
                                requests.append((f"{base}/connectors/zammad/webhook", raw, headers))
                        figures = await open_loop(client, requests, rate)
                        run_figures = {"rate": rate, "path": path,
                                       **summary(*figures)}  # fmt: skip
                        runs.append(run_figures)
                        print(json.dumps(run_figures), flush=True)

        asyncio.run(run())
        # Webhooks answered 202 finish in the background: wait for them before counting.
        until = time.monotonic() + 300
        while pending_inbound(data_dir / "stellwerk.db") and time.monotonic() < until:
            time.sleep(1)
    engine = create_db_engine(f"sqlite:///{data_dir / 'stellwerk.db'}")
    with session_factory(engine)() as session:
        stored = session.scalar(select(func.count()).select_from(ToolTicket)) or 0
        notes = select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "note")
        queued = session.scalar(notes) or 0
        late = select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "inbound")
        deferred = session.scalar(late) or 0
    engine.dispose()
    report = {
        "stored_suggestions": stored,
        "queued_write_backs": queued,
        "deferred_deliveries": deferred,
        "runs": runs,
        "workdir": str(workdir),
    }
    print_json_line("connector_webhook", report)


if __name__ == "__main__":
    main()
