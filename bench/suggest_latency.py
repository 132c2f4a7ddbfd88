"""Warm /suggest latency of the real service at 10k and 100k tickets, beside the encode floor."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from app import components
from app.settings import Settings
from bench.common import (
    DEFAULT_MODEL,
    MODEL_CACHE,
    QueryText,
    load_note,
    percentile,
    print_json_line,
)
from bench.corpus import (
    BASE_DB,
    BaseInfo,
    add_synthetic_tickets,
    build_base,
    copy_database,
    held_out_queries,
    load_base_info,
    open_factory,
    sqlite_url,
)
from bench.index_kinds import KindFigures, build_both, compare, stored_vectors
from bench.service import running_service
from bench.suggest_report import RunFigures, print_kinds, print_run, print_summary
from index.embedder import Embedder, Vectors, load_embedder
from ingest.index_sync import refresh_snapshot
from ingest.reindex import fill_second_vectors

FLAT_EXACT_MAX = 1_000_000_000
DEFAULT_EXACT_MAX = 200_000
SIZE_MARKER = "size.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="Ticket counts, comma-separated.")
    parser.add_argument("--queries", type=int, default=200, help="Measured requests per run.")
    parser.add_argument("--warmup", type=int, default=10, help="Unmeasured requests first.")
    parser.add_argument("--real-tickets", type=int, default=10_000, help="Tickets truly encoded.")
    parser.add_argument("--sigma", type=float, default=0.02, help="Noise per dimension.")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="Embedding model name.")
    parser.add_argument("--reuse", type=Path, help="Folder of an earlier run to reuse.")
    parser.add_argument(
        "--build-threads",
        type=int,
        default=0,
        help="torch threads while encoding the base (0: torch decides); timings are unaffected.",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="STELLWERK_EMBEDDING_THREADS of the service and of the floor (0: torch decides).",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="Encode and cache the databases, then stop."
    )
    parser.add_argument(
        "--without-second-vectors",
        action="store_true",
        help="Leave the English passages without the search's second model's vectors (bases "
        "built before 2026-12-03 had none): English is then ranked by the index model alone.",
    )
    parser.add_argument(
        "--keep-second-model",
        action="store_true",
        help="Train the router's classifier with the second model's learners even where its "
        "cross-validation would drop them: the latency when they are kept.",
    )
    return parser.parse_args()


def ms(seconds: float) -> float:
    return seconds * 1000.0


def query_vectors(embedder: Embedder, queries: list[QueryText]) -> Vectors:
    """The measured queries as vectors, for the in-process index comparison."""
    vectors = [embedder.encode_queries([query.text()])[0] for query in queries]
    return np.vstack(vectors).astype(np.float32)


@dataclass
class Samples:
    """Per-request timings in ms: client-side, server-reported, and the in-process floor."""

    client: list[float]
    server: list[float]
    floor: list[float]
    empty_solution_lists: int = 0


def measure_requests(
    base_url: str, key: str, embedder: Embedder, queries: list[QueryText]
) -> Samples:
    """Sequential POST /suggest, each followed by the same text's encode in this process.

    Alternating keeps the service and the floor under the same background load; the service
    is idle while this process encodes, and the other way round.
    """
    samples = Samples([], [], [])
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, timeout=120.0, headers=headers) as client:
        for query in queries:
            body = {"title": query.title, "description": query.description}
            started = time.perf_counter()
            response = client.post("/api/v1/suggest", json=body)
            samples.client.append(ms(time.perf_counter() - started))
            response.raise_for_status()
            payload: dict[str, Any] = response.json()
            samples.server.append(float(payload["took_ms"]))
            samples.empty_solution_lists += not payload["solutions"]
            started = time.perf_counter()
            embedder.encode_queries([query.text()])
            samples.floor.append(ms(time.perf_counter() - started))
    return samples


def prepare_size(workdir: Path, size: int, info: BaseInfo, sigma: float) -> Path:
    """A data folder whose database holds `size` tickets; cached between runs."""
    data_dir = workdir / f"size-{size}"
    marker = data_dir / SIZE_MARKER
    if marker.exists():
        return data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    copy_database(workdir / BASE_DB, data_dir / "stellwerk.db")
    extra = max(0, size - info.tickets)
    if extra:
        print(f"adding {extra} synthetic tickets (real vectors + N(0, {sigma}) per dim) ...")
        add_synthetic_tickets(
            data_dir / "stellwerk.db", count=extra, model_id=info.model_id, sigma=sigma
        )
    marker.write_text(json.dumps({"tickets": size, "synthetic": extra, "sigma": sigma}))
    return data_dir


def fill_search_second(data_dir: Path) -> int:
    """The search's second model's vectors for the English passages, as `stellwerk index
    rebuild` fills them in: the shipped default ranks English by both models, so /suggest
    is measured with it. Idempotent: a filled database costs one query."""
    settings = Settings(
        data_dir=data_dir,
        model_cache_dir=MODEL_CACHE,
        _env_file=None,  # type: ignore[call-arg]
    )
    second = components.load_search_second_model(settings)
    if second is None:
        return 0
    engine, factory = open_factory(data_dir / "stellwerk.db")
    try:
        return fill_second_vectors(factory, second, show_progress=True)
    finally:
        engine.dispose()


def write_snapshot(
    factory: sessionmaker[Session],
    data_dir: Path,
    embedder: Embedder,
    exact: int,
) -> tuple[str, int, float]:
    started = time.perf_counter()
    manifest = refresh_snapshot(
        factory,
        index_dir=data_dir / "index",
        dim=embedder.dim,
        model_id=embedder.model_id,
        engine=embedder.engine,
        exact_max=exact,
        keep=2,
    )
    return manifest.index_kind, manifest.count, time.perf_counter() - started


def prepare_service(
    factory: sessionmaker[Session], setup: RunSetup, embedder: Embedder
) -> tuple[str, str, float]:
    """Train the router as `stellwerk routing train` does, and issue a ticket-tool key.

    The service would otherwise train in the background at start-up and measure that.
    The router reads the default second model, as the service does: its training encodes
    the resolved tickets with it, and /suggest encodes the new ticket with it when the
    classifier kept its learners.
    Returns (the key, the router's stage, training seconds).
    """
    from app.auth import CLI_PRINCIPAL
    from app.components import open_router, routing_config_from
    from app.services.keys import create_key

    settings = Settings(  # type: ignore[call-arg]
        data_dir=setup.data_dir, model_cache_dir=MODEL_CACHE, _env_file=None
    )
    config = routing_config_from(settings)
    if setup.keep_second_model:
        config = replace(config, classifier=replace(config.classifier, second_by_cv=False))
    router = open_router(settings, embedder, config=config)
    started = time.perf_counter()
    if not router.retrain(factory, embedder):
        raise RuntimeError(f"routing training failed: {router.status().last_reason}")
    seconds = time.perf_counter() - started
    with factory() as session, session.begin():
        _, key = create_key(
            session,
            actor=CLI_PRINCIPAL,
            name=f"bench-{time.time_ns()}",
            role="integration",
            teams=[],
            company=None,
        )
    stage = router.status().stage
    model = router.model
    if model is not None and model.classifier is not None:
        kept = model.classifier.uses_second
        stage += f" (second model {model.second_model_id}: {'kept' if kept else 'dropped'})"
    return key, stage, seconds


def service_env(setup: RunSetup) -> dict[str, str]:
    return {
        "STELLWERK_DATA_DIR": str(setup.data_dir),
        "STELLWERK_DATABASE_URL": sqlite_url(setup.data_dir / "stellwerk.db"),
        "STELLWERK_EMBEDDING_MODEL": setup.model,
        "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "STELLWERK_INDEX_EXACT_MAX_VECTORS": str(setup.exact_max),
        "STELLWERK_EMBEDDING_THREADS": str(setup.threads),
        "STELLWERK_LOG_LEVEL": "warning",
        # One client sends every request back to back: a latency run, not a rate test.
        "STELLWERK_KEY_REQUESTS_PER_MINUTE": "0",
    }


@dataclass(frozen=True)
class RunSetup:
    """What one service run is about."""

    data_dir: Path
    tickets: int
    synthetic: int
    exact_max: int
    model: str
    threads: int
    keep_second_model: bool = False


def run_once(
    setup: RunSetup,
    embedder: Embedder,
    queries: tuple[list[QueryText], list[QueryText]],
) -> RunFigures:
    """Snapshot, start the service, warm it, then measure it beside the encode floor."""
    warmup, measured = queries
    engine, factory = open_factory(setup.data_dir / "stellwerk.db")
    try:
        kind, count, snapshot_seconds = write_snapshot(
            factory, setup.data_dir, embedder, setup.exact_max
        )
        key, stage, routing_seconds = prepare_service(factory, setup, embedder)
        print(f"  router: {stage} stage, trained in {routing_seconds:.1f} s")
    finally:
        engine.dispose()
    log_path = setup.data_dir / f"service-{kind}.log"
    print(f"  {count} passages, {kind} index; starting the service (log {log_path}) ...")
    with running_service(service_env(setup), log_path, key) as service:
        measure_requests(service.base_url, key, embedder, warmup)
        samples = measure_requests(service.base_url, key, embedder, measured)
    return RunFigures(
        tickets=setup.tickets,
        passages=count,
        synthetic_tickets=setup.synthetic,
        index_kind=kind,
        exact_max=setup.exact_max,
        snapshot_seconds=round(snapshot_seconds, 1),
        routing_stage=stage,
        routing_train_seconds=round(routing_seconds, 1),
        startup_seconds=round(service.startup_seconds, 1),
        suggest_p50=round(percentile(samples.client, 0.5), 1),
        suggest_p95=round(percentile(samples.client, 0.95), 1),
        suggest_mean=round(statistics.fmean(samples.client), 1),
        server_p50=round(percentile(samples.server, 0.5), 1),
        floor_p50=round(percentile(samples.floor, 0.5), 1),
        floor_p95=round(percentile(samples.floor, 0.95), 1),
        floor_mean=round(statistics.fmean(samples.floor), 1),
        empty_solution_lists=samples.empty_solution_lists,
        load_average=round(os.getloadavg()[0], 2),
    )


def index_kind_figures(data_dir: Path, queries: Vectors) -> tuple[list[KindFigures], float]:
    engine, factory = open_factory(data_dir / "stellwerk.db")
    try:
        ids, vectors, article_ids = stored_vectors(factory)
    finally:
        engine.dispose()
    flat, hnsw, build_seconds = build_both(ids, vectors)
    figures = [
        compare(flat, hnsw, queries, None, "none"),
        compare(flat, hnsw, queries, ids[ids != article_ids.max()], "all but one"),
        compare(flat, hnsw, queries, article_ids, f"articles only ({len(article_ids)})"),
    ]
    return figures, build_seconds


def ensure_base(workdir: Path, embedder: Embedder, tickets: int, threads: int) -> BaseInfo:
    info = load_base_info(workdir)
    if info is not None and info.model_id == embedder.model_id and info.tickets == tickets:
        print(f"reusing encoded base in {workdir} ({info.passages} passages)")
        return info
    print(f"encoding {tickets} real tickets into {workdir / BASE_DB} (several minutes) ...")
    import torch

    previous = torch.get_num_threads()
    # On a machine shared with other jobs one thread spins less; measurements use the default.
    torch.set_num_threads(threads or previous)
    try:
        info = build_base(workdir, embedder, tickets)
    finally:
        torch.set_num_threads(previous)
    print(f"encoded {info.passages} passages in {info.encode_seconds} s")
    return info


def main() -> None:
    args = parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    workdir: Path = args.reuse or Path(tempfile.mkdtemp(prefix="stellwerk-bench-suggest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"work folder: {workdir}  (pass --reuse {workdir} to skip re-encoding)")
    print(load_note())
    embedder = load_embedder(args.model, cache_dir=MODEL_CACHE, threads=args.threads)
    info = ensure_base(workdir, embedder, args.real_tickets, args.build_threads)
    if args.build_only:
        for size in sizes:
            data_dir = prepare_size(workdir, size, info, args.sigma)
            if not args.without_second_vectors:
                fill_search_second(data_dir)
        print(f"built; measure with --reuse {workdir}")
        return
    queries = held_out_queries(args.warmup + args.queries)
    split = (queries[: args.warmup], queries[args.warmup :])
    languages = sorted({q.language for q in split[1]})
    print(f"{len(split[1])} measured queries ({', '.join(languages)}), {args.warmup} warm-up")
    runs: list[RunFigures] = []
    kinds: list[KindFigures] = []
    for size in sizes:
        data_dir = prepare_size(workdir, size, info, args.sigma)
        if not args.without_second_vectors:
            filled = fill_search_second(data_dir)
            if filled:
                print(f"  {filled} English passages given the search's second model's vectors")
        synthetic = max(0, size - info.tickets)
        compare_kinds = size == sizes[-1] and synthetic > 0
        for exact_max in [FLAT_EXACT_MAX, 0] if compare_kinds else [DEFAULT_EXACT_MAX]:
            setup = RunSetup(
                data_dir,
                size,
                synthetic,
                exact_max,
                args.model,
                args.threads,
                args.keep_second_model,
            )
            figures = run_once(setup, embedder, split)
            print_run(figures)
            runs.append(figures)
        if compare_kinds:
            vectors = query_vectors(embedder, split[1])
            kinds, build_seconds = index_kind_figures(data_dir, vectors)
            print_kinds(kinds, build_seconds)
    print_summary(runs)
    print_json_line(
        "suggest_latency",
        {
            "model": embedder.model_id,
            "sigma": args.sigma,
            "threads": args.threads,
            "queries": len(split[1]),
            "work_folder": str(workdir),
            "runs": [asdict(r) | {"ratio_p50": round(r.ratio_p50, 2)} for r in runs],
            "index_kinds": [asdict(k) for k in kinds],
        },
    )


if __name__ == "__main__":
    main()
