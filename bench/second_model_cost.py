"""What the search's second model costs a request: /search and /suggest, on against off.

Two real services (`stellwerk serve`) run side by side on copies of one database: the
articles and `--tickets` real resolved tickets (German and English), ingested with the
second model as the shipped default does, the router trained once before the copy. One
has STELLWERK_SEARCH_SECOND_MODEL at its default (all-MiniLM-L6-v2), the other has it
empty. Every held-out ticket is sent to both in turn (the order alternating), to
`/api/v1/search` (its title, as an agent types) and to `/api/v1/suggest` (title and
description), so background load hits both alike. Printed: client-side p50 and p95 per
endpoint and query language, and the ratio on / off.

    .venv/bin/python -m bench.second_model_cost [--tickets 2000] [--queries 200] [--reuse DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app.auth import CLI_PRINCIPAL
from app.components import load_search_second_model, open_router, router_second_embedder
from app.services.keys import create_key
from app.settings import Settings
from bench.common import MAX_WORDS, MODEL_CACHE, QueryText, load_note, percentile, print_json_line
from bench.corpus import held_out_queries, open_factory, real_tickets, sqlite_url
from bench.service import running_services
from index.embedder import load_embedder
from ingest.pipeline import ingest_articles, ingest_tickets

ARTICLES = Path(__file__).resolve().parents[1] / "articles"
SECOND_MODEL = "all-minilm-l6-v2"
READY = "ready.txt"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000, help="Real tickets in the index.")
    parser.add_argument("--queries", type=int, default=200, help="Held-out tickets sent.")
    parser.add_argument("--warmup", type=int, default=10, help="Unmeasured requests first.")
    parser.add_argument("--reuse", type=Path, help="Folder of an earlier run to reuse.")
    return parser.parse_args()


def _settings(data_dir: Path, second: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        data_dir=data_dir,
        model_cache_dir=MODEL_CACHE,
        search_second_model=second,
        embedding_threads=1,
        _env_file=None,
    )


def build(workdir: Path, tickets: int) -> str:
    """The database, ingested with both models and the router trained; an admin key."""
    base = workdir / "base"
    base.mkdir(parents=True, exist_ok=True)
    settings = _settings(base, SECOND_MODEL)
    embedder = load_embedder("multilingual-e5-small", cache_dir=MODEL_CACHE, threads=1)
    second = load_search_second_model(settings)
    engine, factory = open_factory(base / "stellwerk.db")
    try:
        started = time.perf_counter()
        ingest_articles(factory, embedder, ARTICLES, max_words=MAX_WORDS, second=second)
        ingest_tickets(factory, embedder, real_tickets(tickets), max_words=MAX_WORDS, second=second)
        print(f"ingested in {time.perf_counter() - started:.0f} s")
        router = open_router(
            settings, embedder, second_embedder=router_second_embedder(settings, second)
        )
        if not router.retrain(factory, embedder):
            raise RuntimeError(f"routing training failed: {router.status().last_reason}")
        with factory() as session, session.begin():
            _, key = create_key(
                session, actor=CLI_PRINCIPAL, name="bench", role="admin", teams=[], company=None
            )
    finally:
        engine.dispose()
    (workdir / READY).write_text(key, encoding="utf-8")
    return key


def _env(data_dir: Path, second: str) -> dict[str, str]:
    return {
        "STELLWERK_DATA_DIR": str(data_dir),
        "STELLWERK_DATABASE_URL": sqlite_url(data_dir / "stellwerk.db"),
        "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "STELLWERK_SEARCH_SECOND_MODEL": second,
        "STELLWERK_EMBEDDING_THREADS": "1",
        "STELLWERK_LOG_LEVEL": "warning",
        "STELLWERK_KEY_REQUESTS_PER_MINUTE": "0",
        "STELLWERK_CONNECTOR_WORKER": "false",
    }


def _requests(query: QueryText) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "search": ("/api/v1/search", {"query": query.title, "k": 10}),
        "suggest": ("/api/v1/suggest", {"title": query.title, "description": query.description}),
    }


def _timed(client: httpx.Client, path: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def measure(
    clients: dict[str, httpx.Client], queries: list[QueryText]
) -> dict[tuple[str, str, str], list[float]]:
    """(mode, endpoint, language) -> client-side milliseconds."""
    samples: dict[tuple[str, str, str], list[float]] = {}
    for i, query in enumerate(queries):
        order = ["on", "off"] if i % 2 == 0 else ["off", "on"]
        for endpoint, (path, body) in _requests(query).items():
            for mode in order:
                key = (mode, endpoint, query.language)
                samples.setdefault(key, []).append(_timed(clients[mode], path, body))
    return samples


def report(samples: dict[tuple[str, str, str], list[float]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def fmt(value: float) -> str:
        return f"{value:7.1f}"

    print("| endpoint | queries | n | p50 on | p50 off | on/off | p95 on | p95 off | on/off |")
    print("|---|---|---|---|---|---|---|---|---|")
    for endpoint in ("search", "suggest"):
        for language in sorted({lang for _, e, lang in samples if e == endpoint}):
            on, off = samples[("on", endpoint, language)], samples[("off", endpoint, language)]
            row: dict[str, Any] = {
                "endpoint": endpoint,
                "language": language,
                "n": len(on),
                **{
                    f"p{int(q * 100)}_{mode}": round(percentile(values, q), 1)
                    for q in (0.5, 0.95)
                    for mode, values in (("on", on), ("off", off))
                },
            }
            rows.append(row)
            print(
                f"| {endpoint} | {language} | {len(on)} | {fmt(row['p50_on'])} | "
                f"{fmt(row['p50_off'])} | {row['p50_on'] / row['p50_off']:.2f} | "
                f"{fmt(row['p95_on'])} | {fmt(row['p95_off'])} | "
                f"{row['p95_on'] / row['p95_off']:.2f} |"
            )
    return rows


def main() -> None:
    args = parse_args()
    workdir = args.reuse or Path(tempfile.mkdtemp(prefix="stellwerk-second-cost-"))
    print(f"work folder {workdir}")
    ready = workdir / READY
    key = ready.read_text(encoding="utf-8") if ready.exists() else build(workdir, args.tickets)
    dirs = {}
    for mode in ("on", "off"):
        dirs[mode] = workdir / mode
        shutil.rmtree(dirs[mode], ignore_errors=True)
        shutil.copytree(workdir / "base", dirs[mode])
    envs = [_env(dirs["on"], SECOND_MODEL), _env(dirs["off"], "")]
    logs = [workdir / "service-on.log", workdir / "service-off.log"]
    queries = held_out_queries(args.warmup + args.queries)
    with running_services(envs, logs, key) as (on, off):
        headers = {"Authorization": f"Bearer {key}"}
        with (
            httpx.Client(base_url=on.base_url, timeout=120.0, headers=headers) as on_client,
            httpx.Client(base_url=off.base_url, timeout=120.0, headers=headers) as off_client,
        ):
            clients = {"on": on_client, "off": off_client}
            measure(clients, queries[: args.warmup])
            samples = measure(clients, queries[args.warmup :])
    print(load_note())
    rows = report(samples)
    print_json_line("second_model_cost", {"tickets": args.tickets, "rows": rows})


if __name__ == "__main__":
    main()
