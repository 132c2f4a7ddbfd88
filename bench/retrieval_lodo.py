"""Fusion parameters chosen by the worst case over every retrieval set, and leave-one-out.

    .venv/bin/python -m bench.retrieval_lodo --work /tmp/stellwerk-lodo [--second]

For every set in shared/data/retrieval the candidate lists are computed once
(`bench.retrieval_lists`; passages and queries encoded once, then cached), and every point
of the parameter grid is scored on every set. A point's margin on a set is its nDCG@10
minus that of the better single retriever (bm25 or dense) on that set; the shipped point
is the one whose smallest margin over all sets is largest (ties: the larger mean margin).
Leave-one-dataset-out: each set is scored with the point chosen by the same rule on the
other sets alone, so its figure is an estimate for data the parameters never saw.

`--second` adds all-MiniLM-L6-v2 where query and passage are English (by their stop words)
as the service does (index.fusion.confidence_fusion: the mean of both models' standings,
no weight to fit), selects the fusion point with it on, and prints its encode cost.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app import components
from app.services.retrieval_eval import DEPTH
from app.settings import Settings
from bench.common import BEFORE_STOPWORDS, DATA_DIR, RETRIEVAL_SETS, percentile
from bench.retrieval_lists import LIST_DEPTH, QueryLists, SetLists, collect
from index.fusion import (
    FusionWeights,
    confidence_fusion,
    lexical_evidence,
    lexical_trust,
    list_agreement,
    ranked_keys,
    reciprocal_rank_fusion,
    standardised,
)
from index.metrics import ndcg_at

SETS = RETRIEVAL_SETS
TODAY = FusionWeights(dense=1.0, lexical=1.1, agreement_floor=1.0)
LEXICAL = [0.7, 0.9, 1.1, 1.3]
FLOORS = [0.0, 0.3, 1.0]
FULL_TRUST = [0, 20, 40]
# The second model's share of the dense standing, (z_e5 + w z_second) / (1 + w): the
# service takes the plain mean (w = 1); other weights were measured once and not kept.
SECOND = [1.0]


# Stop words BM25 analyses with: the shipped packages' lists, main's hand list, none.
STOPWORDS: dict[str, frozenset[str] | None] = {
    "package": None,
    "main": BEFORE_STOPWORDS,
    "none": frozenset(),
}


@dataclass(frozen=True)
class Point:
    weights: FusionWeights
    second: float = 0.0
    stopwords: str = "package"

    def label(self) -> str:
        text = f"{self.stopwords} stop words, lexical {self.weights.lexical}, "
        text += f"floor {self.weights.agreement_floor}, full at {self.weights.full_trust_groups}"
        return text + (f", second {self.second}" if self.second else "")


@dataclass
class Prepared:
    """One query's fusion inputs as arrays over its candidate documents."""

    external: list[str]
    dense: np.ndarray
    lexical: np.ndarray
    second: np.ndarray
    english: np.ndarray
    coverage: float
    agreement: float
    groups: int


def prepare(query: QueryLists, doc_ids: dict[str, str]) -> Prepared:
    """The terms `confidence_fusion` adds, per candidate (the same functions it calls)."""
    dense = query.dense[:LIST_DEPTH]
    lexical = query.lexical[:LIST_DEPTH]
    keys = list(dict.fromkeys([r.doc_key for r in dense] + [r.doc_key for r in lexical]))
    position = {key: i for i, key in enumerate(keys)}
    dense_z = np.full(len(keys), min(standardised([r.score for r in dense]), default=0.0))
    for item, z in zip(dense, standardised([r.score for r in dense]), strict=True):
        dense_z[position[item.doc_key]] = z
    lex = np.zeros(len(keys))
    for item, value in zip(
        lexical, lexical_evidence([r.score for r in lexical], LIST_DEPTH), strict=True
    ):
        lex[position[item.doc_key]] = value
    second = np.zeros(len(keys))
    mask = np.zeros(len(keys), dtype=bool)
    english = [
        key
        for key in keys
        if query.language == "en" and query.doc_language.get(key) == "en" and key in query.second
    ]
    for key, z in zip(english, standardised([query.second[k] for k in english]), strict=True):
        second[position[key]] = z
        mask[position[key]] = True
    return Prepared(
        [doc_ids[key] for key in keys],
        dense_z,
        lex,
        second,
        mask,
        query.coverage,
        list_agreement(dense, lexical),
        query.groups,
    )


def ndcg(external_order: Sequence[str], query: QueryLists) -> float:
    ranked = [doc for doc in external_order if doc != query.query_id][:DEPTH]
    return ndcg_at(ranked, query.relevant, 10)


def score_point(point: Point, prepared: list[Prepared], queries: list[QueryLists]) -> float:
    total = 0.0
    for item, query in zip(prepared, queries, strict=True):
        trust = lexical_trust(item.coverage, item.agreement, point.weights, item.groups)
        dense = item.dense
        if point.second:
            mixed = (item.dense + point.second * item.second) / (1 + point.second)
            dense = np.where(item.english, mixed, item.dense)
        fused = point.weights.dense * dense + trust * item.lexical
        order = np.argsort(-fused, kind="stable")
        total += ndcg([item.external[i] for i in order[: DEPTH + 1]], query)
    return total / len(queries)


def features(item: Prepared) -> np.ndarray:
    """Per candidate: dense standing, lexical evidence as far as the query is known, and as
    far as the lists also agree, and the second model's standing."""
    known = item.coverage * item.lexical
    return np.column_stack([item.dense, known, known * item.agreement, item.second])


def learned_weights(
    prepared: dict[str, list[Prepared]], queries: dict[str, list[QueryLists]], sets: Sequence[str]
) -> np.ndarray:
    """Logistic regression of relevance on `features`; every set and every query weigh alike."""
    from sklearn.linear_model import LogisticRegression

    rows, labels, weights = [], [], []
    for name in sets:
        for item, query in zip(prepared[name], queries[name], strict=True):
            x = features(item)
            y = np.array([1 if query.relevant.get(doc, 0) > 0 else 0 for doc in item.external])
            if y.sum() == 0:
                continue
            rows.append(x)
            labels.append(y)
            weights.append(np.full(len(y), 1.0 / (len(y) * len(queries[name]))))
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(np.vstack(rows), np.concatenate(labels), sample_weight=np.concatenate(weights) * 1000)
    coefficients: np.ndarray = model.coef_[0]
    return coefficients


def score_learned(
    coefficients: np.ndarray, prepared: list[Prepared], queries: list[QueryLists]
) -> float:
    total = 0.0
    for item, query in zip(prepared, queries, strict=True):
        order = np.argsort(-(features(item) @ coefficients), kind="stable")
        total += ndcg([item.external[i] for i in order[: DEPTH + 1]], query)
    return total / len(queries)


def score_system(lists: SetLists, rank: Callable[[QueryLists], list[str]]) -> float:
    return float(np.mean([ndcg([lists.doc_ids[k] for k in rank(q)], q) for q in lists.queries]))


def baselines(lists: SetLists) -> dict[str, float]:
    def rrf(q: QueryLists) -> list[str]:
        return ranked_keys(reciprocal_rank_fusion([q.dense, q.lexical]))

    def today(q: QueryLists) -> list[str]:
        return ranked_keys(
            confidence_fusion(
                q.dense, q.lexical, coverage=q.coverage, weights=TODAY, candidates=LIST_DEPTH
            )
        )

    return {
        "bm25": score_system(lists, lambda q: [r.doc_key for r in q.lexical]),
        "dense": score_system(lists, lambda q: [r.doc_key for r in q.dense]),
        "rrf": score_system(lists, rrf),
        "today": score_system(lists, today),
    }


def choose(
    table: dict[Point, dict[str, float]],
    single: dict[Point, dict[str, float]],
    sets: Sequence[str],
) -> Point:
    """The point with the largest smallest margin over `sets` (then the largest mean)."""

    def key(point: Point) -> tuple[float, float]:
        margins = [table[point][s] - single[point][s] for s in sets]
        return (round(min(margins), 4), round(float(np.mean(margins)), 4))

    return max(table, key=key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/stellwerk-lodo"))  # noqa: S108
    parser.add_argument("--data", type=Path, default=DATA_DIR / "retrieval")
    parser.add_argument("--second", action="store_true", help="add all-MiniLM-L6-v2")
    parser.add_argument("--refresh", action="store_true", help="recompute the lists")
    parser.add_argument("--stopwords", default=",".join(STOPWORDS), help="variants to grid")
    parser.add_argument("--sets", default=",".join(SETS), help="sets to select on")
    args = parser.parse_args()
    settings = Settings()
    embedder = components.load_configured_embedder(settings)
    second = (
        components.load_configured_embedder(settings, "all-minilm-l6-v2") if args.second else None
    )
    variants = args.stopwords.split(",")
    names = args.sets.split(",")
    sets: dict[str, dict[str, SetLists]] = {}
    for variant in variants:
        words = STOPWORDS[variant]
        sets[variant] = {
            name: collect(
                args.data / name,
                embedder,
                args.work,
                second=second,
                stopwords=None if words is None else (variant, words),
                refresh=args.refresh,
            )
            for name in names
        }
    prepared = {
        variant: {name: [prepare(q, s.doc_ids) for q in s.queries] for name, s in by_set.items()}
        for variant, by_set in sets.items()
    }
    base = {v: {name: baselines(s) for name, s in by_set.items()} for v, by_set in sets.items()}
    points = [
        Point(
            replace(TODAY, lexical=lexical, agreement_floor=floor, full_trust_groups=full),
            second_weight,
            variant,
        )
        for variant, lexical, floor, full, second_weight in itertools.product(
            variants, LEXICAL, FLOORS, FULL_TRUST, SECOND if args.second else [0.0]
        )
        if not (floor == 1.0 and full)  # full trust at any length: length cannot matter
    ]
    table = {
        point: {
            name: score_point(
                point, prepared[point.stopwords][name], sets[point.stopwords][name].queries
            )
            for name in names
        }
        for point in points
    }
    single = {
        point: {
            name: max(base[point.stopwords][name]["bm25"], base[point.stopwords][name]["dense"])
            for name in names
        }
        for point in points
    }
    for variant in variants:
        cells = " | ".join(
            f"{base[variant][name]['bm25']:.4f} / {base[variant][name]['today']:.4f}"
            for name in names
        )
        print(f"| {variant} stop words: bm25 / fusion before | {cells} |")
    shipped = choose(table, single, names)
    print(f"\nshipped (all {len(names)} sets): {shipped.label()}")
    print(
        "| set | bm25 | dense | rrf | fusion before | shipped | LODO | LODO point "
        "| LODO - max(bm25, dense) |"
    )
    print("|" + "---|" * 9)
    for held_out in names:
        point = choose(table, single, [s for s in names if s != held_out])
        b = base[shipped.stopwords][held_out]
        lodo = table[point][held_out]
        print(
            f"| {held_out} | {b['bm25']:.4f} | {b['dense']:.4f} | {b['rrf']:.4f} "
            f"| {b['today']:.4f} | {table[shipped][held_out]:.4f} | {lodo:.4f} "
            f"| {point.label()} | {lodo - single[point][held_out]:+.4f} |"
        )
    print("\nthe grid's points with the largest smallest margin:")
    ranked = sorted(
        table, key=lambda p: min(table[p][s] - single[p][s] for s in names), reverse=True
    )
    for point in ranked[:12]:
        cells = " | ".join(f"{table[point][s]:.4f}" for s in names)
        worst = min(table[point][s] - single[point][s] for s in names)
        print(f"| {point.label()} | {cells} | {worst:+.4f} |")
    for variant in variants:
        print(f"\nlearned fusion, {variant} stop words (logistic regression, leave-one-out):")
        queries = {name: s.queries for name, s in sets[variant].items()}
        for held_out in names:
            rest = [s for s in names if s != held_out]
            coefficients = learned_weights(prepared[variant], queries, rest)
            lodo = score_learned(coefficients, prepared[variant][held_out], queries[held_out])
            best = max(base[variant][held_out]["bm25"], base[variant][held_out]["dense"])
            print(
                f"| {held_out} | {lodo:.4f} | {lodo - best:+.4f} "
                f"| {np.round(coefficients, 3).tolist()} |"
            )
    if args.second:
        for name, lists in sets[variants[0]].items():
            cost = lists.second_encode_ms
            print(
                f"{name}: MiniLM query encode p50 {percentile(cost, 0.5):.1f} ms, "
                f"p95 {percentile(cost, 0.95):.1f} ms"
            )


if __name__ == "__main__":
    main()
