"""Result shape and plain-text tables of the suggest latency benchmark."""

from __future__ import annotations

from dataclasses import dataclass

from bench.common import format_table
from bench.index_kinds import KindFigures

TARGET_MS = 200.0


@dataclass(frozen=True)
class RunFigures:
    """One service run: a collection size, an index kind, and its latencies in ms."""

    tickets: int
    passages: int
    synthetic_tickets: int
    index_kind: str
    exact_max: int
    snapshot_seconds: float
    routing_stage: str
    routing_train_seconds: float
    startup_seconds: float
    suggest_p50: float
    suggest_p95: float
    suggest_mean: float
    server_p50: float
    floor_p50: float
    floor_p95: float
    floor_mean: float
    empty_solution_lists: int
    load_average: float

    @property
    def ratio_p50(self) -> float:
        return self.suggest_p50 / self.floor_p50 if self.floor_p50 else 0.0


def print_run(figures: RunFigures) -> None:
    synthetic = (
        f", of which {figures.synthetic_tickets} synthetic (perturbed vectors)"
        if figures.synthetic_tickets
        else ""
    )
    print(
        f"\n{figures.tickets} tickets{synthetic}; {figures.passages} passages; "
        f"{figures.index_kind} index (exact_max {figures.exact_max})"
    )
    rows = [
        ["POST /suggest, client", figures.suggest_p50, figures.suggest_p95, figures.suggest_mean],
        ["query encode floor", figures.floor_p50, figures.floor_p95, figures.floor_mean],
        ["target", TARGET_MS, TARGET_MS, "-"],
    ]
    print(format_table(["ms", "p50", "p95", "mean"], rows))
    print(
        f"ratio p50 suggest/floor {figures.ratio_p50:.2f}; server took_ms p50 "
        f"{figures.server_p50}; snapshot {figures.snapshot_seconds} s; router "
        f"{figures.routing_stage} (trained in {figures.routing_train_seconds} s); startup "
        f"{figures.startup_seconds} s; empty solution lists {figures.empty_solution_lists}; "
        f"load average after the run {figures.load_average}"
    )


def print_kinds(figures: list[KindFigures], build_seconds: float) -> None:
    print(f"\nflat vs HNSW in-process, k=10 (HNSW build {build_seconds:.1f} s):")
    rows = [
        [
            f.filter_name,
            f.recall_at_10,
            f.flat_p50_ms,
            f.hnsw_p50_ms,
            f.flat_p95_ms,
            f.hnsw_p95_ms,
            f.hnsw_short_results,
        ]
        for f in figures
    ]
    headers = ["filter", "recall@10", "flat p50", "hnsw p50", "flat p95", "hnsw p95", "short"]
    print(format_table(headers, rows))


def print_summary(runs: list[RunFigures]) -> None:
    print("\nsummary (ms; suggest measured over HTTP on loopback, floor in-process):")
    rows = [
        [
            r.tickets,
            r.synthetic_tickets,
            r.index_kind,
            r.suggest_p50,
            r.suggest_p95,
            r.floor_p50,
            r.floor_p95,
            round(r.ratio_p50, 2),
            "yes" if r.suggest_p95 <= TARGET_MS else "NO",
        ]
        for r in runs
    ]
    headers = ["tickets", "synthetic", "index", "p50", "p95", "floor p50", "floor p95"]
    print(format_table([*headers, "ratio p50", "p95<=200"], rows))
