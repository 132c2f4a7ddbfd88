"""Bounded cost per request: what a maximal /suggest costs, and what it does to a search.

Builds the demo knowledge base in a temporary folder and starts the service on loopback.
Measures, in one run: a normal /suggest (the demo tickets) against a maximal one (a
50,000-character pasted log, the most the schema allows), and a search on the idle service
against the same search while four maximal suggestions run at once. Targets (issue 14):
the search within 2x its idle time; the maximal suggestion bounded (about four passages).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import format_table, load_note, print_json_line
from bench.console_latency import build_demo_keys, tickets
from bench.service import running_service

_LOG_WORDS = (
    "ERROR Verbindung zum Server vpn-gw-03 abgebrochen timeout after 30000 ms retrying "
    "Drucker spooler service stopped unexpectedly Outlook profile corrupt code 0x8004010F"
).split()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=20, help="Samples per idle figure.")
    parser.add_argument("--parallel", type=int, default=4, help="Maximal suggestions at once.")
    return parser.parse_args()


def maximal_description(seed: int) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    size = 0
    while size < 50_000:
        words.append(f"{rng.choice(_LOG_WORDS)}{rng.randint(0, 9999)}")
        size += len(words[-1]) + 1
    return " ".join(words)[:50_000]


def seconds(client: httpx.Client, path: str, body: dict[str, object]) -> float:
    started = time.perf_counter()
    response = client.post(path, json=body)
    response.raise_for_status()
    return time.perf_counter() - started


def measure(base_url: str, keys: dict[str, str], queries: int, parallel: int) -> dict[str, float]:
    """The searcher uses the agent's key, the heavy callers the admin's: one key's own
    in-flight slots are not what is measured."""
    search = {"query": "VPN Verbindung bricht ab", "k": 5}
    headers = {"Authorization": f"Bearer {keys['agent']}"}
    heavy_headers = {"Authorization": f"Bearer {keys['admin']}"}
    with httpx.Client(base_url=base_url, timeout=600.0, headers=headers) as client:
        for _ in range(3):
            seconds(client, "/api/v1/search", search)
        idle = [seconds(client, "/api/v1/search", search) for _ in range(queries)]
        normal = [
            seconds(client, "/api/v1/suggest", {"title": t, "description": d})
            for t, d in tickets()[:queries]
        ]
        maximal = [
            seconds(
                client,
                "/api/v1/suggest",
                {"title": "Fehlerprotokoll", "description": maximal_description(i)},
            )
            for i in range(3)
        ]
        statuses: list[int] = []

        def heavy(seed: int) -> None:
            body = {"title": "Fehlerprotokoll", "description": maximal_description(seed)}
            with httpx.Client(base_url=base_url, timeout=600.0, headers=heavy_headers) as own:
                statuses.append(own.post("/api/v1/suggest", json=body).status_code)

        callers = [threading.Thread(target=heavy, args=(100 + i,)) for i in range(parallel)]
        for caller in callers:
            caller.start()
        time.sleep(0.2)
        busy: list[float] = []
        while any(caller.is_alive() for caller in callers) or len(busy) < 3:
            busy.append(seconds(client, "/api/v1/search", search))
        for caller in callers:
            caller.join()
    return {
        "search_idle_p50_ms": round(statistics.median(idle) * 1000, 1),
        "search_busy_p50_ms": round(statistics.median(busy) * 1000, 1),
        "search_busy_max_ms": round(max(busy) * 1000, 1),
        "busy_searches": len(busy),
        "suggest_normal_p50_ms": round(statistics.median(normal) * 1000, 1),
        "suggest_maximal_p50_ms": round(statistics.median(maximal) * 1000, 1),
        "maximal_answered": sum(1 for s in statuses if s == 200),
    }


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="stellwerk-bench-fair-") as folder:
        data_dir = Path(folder) / "data"
        keys = build_demo_keys(data_dir)
        overrides = {
            "STELLWERK_DATA_DIR": str(data_dir),
            "STELLWERK_KEY_REQUESTS_PER_MINUTE": "0",
            "STELLWERK_KEY_MAX_IN_FLIGHT": str(args.parallel),
        }
        with running_service(overrides, Path(folder) / "service.log", keys["agent"]) as service:
            figures = measure(service.base_url, keys, args.queries, args.parallel)
    busy_ratio = round(figures["search_busy_p50_ms"] / figures["search_idle_p50_ms"], 2)
    cost_ratio = round(figures["suggest_maximal_p50_ms"] / figures["suggest_normal_p50_ms"], 2)
    print(load_note())
    print(
        format_table(
            ["figure", "ms"],
            [
                ["search, idle service (baseline) p50", figures["search_idle_p50_ms"]],
                [
                    f"search during {args.parallel} maximal suggestions p50",
                    figures["search_busy_p50_ms"],
                ],
                ["  ... max", figures["search_busy_max_ms"]],
                ["suggest, demo ticket (baseline) p50", figures["suggest_normal_p50_ms"]],
                ["suggest, 50,000-character log p50", figures["suggest_maximal_p50_ms"]],
            ],
        )
    )
    print(f"busy search / idle search: {busy_ratio} (target <= 2)")
    print(f"maximal suggest / normal suggest: {cost_ratio}")
    print(f"maximal suggestions answered: {figures['maximal_answered']} of {args.parallel}")
    print_json_line("fair_load", {**figures, "busy_ratio": busy_ratio, "cost_ratio": cost_ratio})


if __name__ == "__main__":
    main()
