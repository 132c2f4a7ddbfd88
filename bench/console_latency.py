"""The console's suggestion page against POST /api/v1/suggest: same service, same tickets.

Builds the demo knowledge base (`stellwerk demo`) in a temporary folder, starts the
service on loopback, signs in to the pages with the demo agent's key, and sends each demo
ticket to both paths in turn (alternating, so both see the same background load). The
page pays for rendering the HTML and the inline article; the target is a p50 within 1.2x.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import REPO_ROOT, format_table, load_note, percentile, print_json_line
from bench.service import VENV_BIN, running_service

DEMO_TICKETS = REPO_ROOT / "demo" / "tickets.jsonl"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=60, help="Measured tickets per path.")
    parser.add_argument("--warmup", type=int, default=5, help="Unmeasured tickets first.")
    return parser.parse_args()


def build_demo_keys(data_dir: Path) -> dict[str, str]:
    """`stellwerk demo` into `data_dir`; the keys it printed, by role (admin, agent)."""
    env = {**os.environ, "STELLWERK_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("STELLWERK_DATABASE_URL", None)
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "app", "demo"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    keys = {
        line.split(" ", 1)[0].removeprefix("demo-"): line.rsplit(" ", 1)[1]
        for line in done.stdout.splitlines()
        if line.startswith("demo-") and " key " in line
    }
    if "agent" not in keys:
        raise RuntimeError(f"no demo-agent key in: {done.stdout}")
    return keys


def build_demo(data_dir: Path) -> str:
    """`stellwerk demo` into `data_dir`; the demo agent's key it printed."""
    return build_demo_keys(data_dir)["agent"]


def tickets() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in DEMO_TICKETS.read_text(encoding="utf-8").splitlines()]
    return [(str(r["title"]), str(r.get("description") or "")) for r in rows if r.get("title")]


def sign_in(pages: httpx.Client, key: str) -> str:
    """The page flow: the login form's token, the key, then the console's token."""
    form = pages.get("/login")
    token = _CSRF.search(form.text)
    assert token is not None
    signed = pages.post("/login", data={"key": key, "csrf": token.group(1), "next": "/"})
    assert signed.status_code == 303, signed.text
    console = pages.get("/")
    token = _CSRF.search(console.text)
    assert console.status_code == 200 and token is not None
    return token.group(1)


def measure(base_url: str, key: str, queries: int, warmup: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"api": [], "page": []}
    texts = tickets()
    with (
        httpx.Client(
            base_url=base_url, timeout=120.0, headers={"Authorization": f"Bearer {key}"}
        ) as api,
        httpx.Client(base_url=base_url, timeout=120.0) as pages,
    ):
        csrf = sign_in(pages, key)
        for number in range(warmup + queries):
            title, description = texts[number % len(texts)]
            started = time.perf_counter()
            answer = api.post("/api/v1/suggest", json={"title": title, "description": description})
            api_ms = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            started = time.perf_counter()
            page = pages.post(
                "/suggest", data={"csrf": csrf, "title": title, "description": description}
            )
            page_ms = (time.perf_counter() - started) * 1000
            assert page.status_code == 200, page.text[:500]
            if number >= warmup:
                samples["api"].append(api_ms)
                samples["page"].append(page_ms)
    return samples


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="stellwerk-bench-console-") as folder:
        data_dir = Path(folder) / "data"
        key = build_demo(data_dir)
        overrides = {"STELLWERK_DATA_DIR": str(data_dir)}
        with running_service(overrides, Path(folder) / "service.log", key) as service:
            samples = measure(service.base_url, key, args.queries, args.warmup)
    figures = {
        path: {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
        }
        for path, values in samples.items()
    }
    ratio = round(figures["page"]["p50_ms"] / figures["api"]["p50_ms"], 3)
    print(load_note())
    print(
        format_table(
            ["path", "p50 ms", "p95 ms"],
            [
                [
                    "POST /api/v1/suggest (baseline)",
                    figures["api"]["p50_ms"],
                    figures["api"]["p95_ms"],
                ],
                [
                    "POST /suggest (console page)",
                    figures["page"]["p50_ms"],
                    figures["page"]["p95_ms"],
                ],
            ],
        )
    )
    print(f"page p50 / API p50: {ratio} (target <= 1.2), {args.queries} tickets each")
    print_json_line("console_latency", {"queries": args.queries, **figures, "p50_ratio": ratio})


if __name__ == "__main__":
    main()
