"""The gap miner's rules across seeds: merge cuts, and (--detections) detection scores and
cluster similarities.

    STELLWERK_EMBEDDING_ENGINE=onnx-int8 .venv/bin/python -m bench.gap_rules \\
        --cache-dir /tmp/gaps4-vectors [--seeds 0 1 2 3 4 5] [--sets covid-faq-de ...] \\
        [--detections]

`stellwerk eval gaps` removes one seeded fifth of a corpus; a rule chosen on that one draw
may only fit it. For every set and seed this scores both systems of the evaluation
(`stellwerk`, `tfidf`, gaps_eval) under each merge rule, with the same detection (the merge
rule does not touch it), and prints ARI stellwerk / tfidf, the margin, and the highest ARI
any single cut reaches on the truly uncovered queries (`ceiling`, over a grid of cuts and
the rules' own: no merge rule can do better). The vectors come from the `--cache-dir` of
the evaluation, so only what is not cached is encoded. Figures: docs/BENCHMARKS.md,
"Knowledge gaps".

With `--detections`, each set and seed is instead scored under every pair of a detection
score (`DETECTIONS`: the shipped one, and dense + BM25 of bench.gap_lexical) and a cluster
similarity (`SIMILARITIES`: the shipped centred cosine, and its mean with a TF-IDF cosine
of key terms), the cut and merge rules as shipped, beside TF-IDF in the same computation:
F1 and ARI of each, and per pair the worst case over the draws (`detection_summary`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app import components
from app.services.gaps_clusters import cluster
from app.services.gaps_cut import Coverage, above_mean_cut, cluster_cut, separating_cut
from app.services.gaps_eval import (
    GapTask,
    MergeRule,
    SystemInputs,
    _ari,
    gap_task,
    score_system,
    stellwerk_inputs,
    tfidf_inputs,
)
from app.services.gaps_vectors import dataset_vectors
from app.settings import Settings
from bench.common import DATA_DIR, RETRIEVAL_SETS
from bench.gap_lexical import detection_scores, lexical_scores, mixed_similarity
from index.embedder import Embedder
from ingest.beir import BeirDataset, load_beir
from ingest.ticket_vectors import ticket_passage_texts

SETS = RETRIEVAL_SETS
# Cuts tried for the ceiling: the centred and TF-IDF similarities both lie in [-1, 1].
CEILING_CUTS = np.linspace(-0.2, 1.0, 49)


def ks_merge(coverage: Coverage, covered: npt.NDArray[np.bool_]) -> float:
    """The KS point of the covered candidates' best against their runner-up score."""
    if not covered.any():
        return cluster_cut(coverage, covered)
    return separating_cut(coverage.best[covered], coverage.runner_up[covered])


def chance_band(n: int, alpha: float = 0.05) -> float:
    """How far two empirical distribution functions of n values each can lie apart by
    chance: twice the Dvoretzky-Kiefer-Wolfowitz bound sqrt(ln(2 / alpha) / 2n), each
    within it of its own distribution with probability 1 - alpha."""
    return 2.0 * float(np.sqrt(np.log(2.0 / alpha) / (2.0 * n))) if n else float("inf")


def separation(high: npt.NDArray[np.floating], low: npt.NDArray[np.floating], cut: float) -> float:
    """The KS distance at `cut`: share of `low` at or below it minus share of `high`."""
    return float(np.mean(np.asarray(low) <= cut) - np.mean(np.asarray(high) <= cut))


def guarded_ks_merge(coverage: Coverage, covered: npt.NDArray[np.bool_]) -> float:
    """The KS point where the covered candidates' best and runner-up scores separate by
    more than chance (`chance_band`), the covered median where they do not."""
    n = int(np.count_nonzero(covered))
    if n == 0:
        return cluster_cut(coverage, covered)
    high, low = coverage.best[covered], coverage.runner_up[covered]
    cut = separating_cut(high, low)
    if separation(high, low, cut) > chance_band(n):
        return cut
    return cluster_cut(coverage, covered)


# Covered candidates whose pairs are read by the pair rules (a seeded sample above it).
PAIR_ROWS = 2000


def covered_pairs(
    vectors: npt.NDArray[np.float32], coverage: Coverage, covered: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]] | None:
    """Similarities of every pair of covered candidates, and whether the two share their
    best article; None without both kinds of pair."""
    rows = np.flatnonzero(covered)
    if rows.size > PAIR_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, PAIR_ROWS, replace=False))
    if rows.size < 3:
        return None
    upper = np.triu_indices(rows.size, 1)
    similarity = (vectors[rows] @ vectors[rows].T).astype(np.float64)[upper]
    articles = coverage.best_article[rows]
    same = (articles[:, None] == articles[None, :])[upper]
    if same.all() or not same.any():
        return None
    return similarity, same


def pair_rules(vectors: npt.NDArray[np.float32]) -> dict[str, MergeRule]:
    """Merge cuts read from pairs of covered candidates: two answered by one article are
    one topic, two answered by different articles are not. `pairs median`: the median
    similarity of the same-article pairs (a gap's members as close as a typical such pair);
    `pairs KS`: the point separating same-article from different-article pairs."""

    def median(coverage: Coverage, covered: npt.NDArray[np.bool_]) -> float:
        pairs = covered_pairs(vectors, coverage, covered)
        if pairs is None:
            return cluster_cut(coverage, covered)
        return float(np.median(pairs[0][pairs[1]]))

    def ks(coverage: Coverage, covered: npt.NDArray[np.bool_]) -> float:
        pairs = covered_pairs(vectors, coverage, covered)
        if pairs is None:
            return cluster_cut(coverage, covered)
        return separating_cut(pairs[0][pairs[1]], pairs[0][~pairs[1]])

    return {"pairs median": median, "pairs KS": ks}


RULES: dict[str, MergeRule] = {
    "median": cluster_cut,
    "ks": ks_merge,
    "ks guarded": guarded_ks_merge,
}
RULE_NAMES = (*RULES, "pairs median", "pairs KS")


def rules_for(vectors: npt.NDArray[np.float32]) -> dict[str, MergeRule]:
    return {**RULES, **pair_rules(vectors)}


def ceiling(
    vectors: npt.NDArray[np.float32], truth: npt.NDArray[np.int64], also: Sequence[float] = ()
) -> float:
    """The best ARI of the clusters of these (truly uncovered) rows over `CEILING_CUTS`
    and the cuts in `also` (the rules' own, so that no rule beats the grid between steps)."""
    cuts = [*CEILING_CUTS.tolist(), *also]
    scores = [_ari(cluster(vectors, float(cut)), truth) for cut in cuts]
    return max((s for s in scores if s is not None), default=0.0)


def _figures(task: Any, inputs: SystemInputs, rule: MergeRule) -> dict[str, Any]:
    return score_system(
        task,
        inputs.scores,
        inputs.vectors,
        detect=inputs.detect,
        cut_rule=inputs.cut_rule,
        merge_rule=rule,
    )


def sweep(
    folder: Path,
    embedder: Embedder,
    *,
    seeds: Sequence[int],
    remove_fraction: float = 0.2,
    max_words: int = 180,
    cache_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per seed: each rule's figures for both systems and each system's ceiling."""
    dataset = load_beir(folder)
    vectors = dataset_vectors(dataset, embedder, max_words=max_words, cache_dir=cache_dir)
    rows = []
    for seed in seeds:
        task = gap_task(dataset, remove_fraction, seed)
        systems = {
            "stellwerk": stellwerk_inputs(task, vectors),
            "tfidf": tfidf_inputs(dataset, task),
        }
        true_rows = np.flatnonzero(task.truly_uncovered)
        truth = task.removed_answer[true_rows]
        rules = {sys: rules_for(inp.vectors) for sys, inp in systems.items()}
        figures = {
            name: {sys: _figures(task, inp, rules[sys][name]) for sys, inp in systems.items()}
            for name in RULE_NAMES
        }
        top = {
            sys: ceiling(
                inp.vectors[true_rows], truth, [figures[n][sys]["cluster_cut"] for n in RULE_NAMES]
            )
            for sys, inp in systems.items()
        }
        rows.append(
            {
                "dataset": dataset.name,
                "seed": seed,
                "uncovered": int(true_rows.size),
                "rules": figures,
                "ceiling": {sys: round(value, 4) for sys, value in top.items()},
            }
        )
    return rows


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per rule over all rows: the smallest ARI margin (stellwerk - tfidf), how often
    stellwerk is below, level with and above TF-IDF, and stellwerk's worst and mean ARI."""
    out = {}
    for name in RULE_NAMES:
        ari = [r["rules"][name]["stellwerk"]["ari"] or 0.0 for r in rows]
        margins = [
            a - (r["rules"][name]["tfidf"]["ari"] or 0.0) for a, r in zip(ari, rows, strict=True)
        ]
        out[name] = {
            "worst_margin": round(min(margins), 4),
            "below": sum(m < 0 for m in margins),
            "level": sum(m == 0 for m in margins),
            "above": sum(m > 0 for m in margins),
            "worst_ari": round(min(ari), 4),
            "mean_ari": round(float(np.mean(ari)), 4),
        }
    return out


DETECTIONS = ("above mean (shipped)", "dense + BM25")
SIMILARITIES = ("centred cosine (shipped)", "centred + key terms")


def _remaining(
    dataset: BeirDataset, task: GapTask, max_words: int
) -> tuple[list[str], list[str], npt.NDArray[np.int64], list[str]]:
    """The judged queries' texts, the remaining documents' passage texts with the column
    of the document each belongs to, and the remaining documents' texts."""
    passages: list[str] = []
    column: list[int] = []
    documents: list[str] = []
    for document, gone in zip(dataset.documents, task.removed, strict=True):
        if gone:
            continue
        for text in ticket_passage_texts(document.title, document.description, max_words):
            passages.append(text)
            column.append(len(documents))
        documents.append(f"{document.title}\n{document.description}")
    texts = list(dataset.queries.values())
    queries = [texts[i] for i in task.queries]
    return queries, passages, np.asarray(column, dtype=np.int64), documents


def detection_sweep(
    folder: Path,
    embedder: Embedder,
    *,
    seeds: Sequence[int],
    remove_fraction: float = 0.2,
    max_words: int = 180,
    cache_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per seed: figures of every (detection, similarity) pair and of TF-IDF."""
    dataset = load_beir(folder)
    vectors = dataset_vectors(dataset, embedder, max_words=max_words, cache_dir=cache_dir)
    rows = []
    for seed in seeds:
        task = gap_task(dataset, remove_fraction, seed)
        shipped = stellwerk_inputs(task, vectors)
        queries, passages, column, documents = _remaining(dataset, task, max_words)
        assert shipped.detect is not None
        detect = {
            DETECTIONS[0]: shipped.detect,
            # above_article_mean is idempotent: the shipped score standardises as the raw one
            DETECTIONS[1]: detection_scores(
                shipped.detect, lexical_scores(queries, passages, column)
            ),
        }
        similar = {
            SIMILARITIES[0]: (shipped.scores, shipped.vectors),
            SIMILARITIES[1]: mixed_similarity(queries, documents, shipped.scores, shipped.vectors),
        }
        figures = {
            f"{d} / {c}": score_system(
                task, scores, cluster_vectors, detect=detect[d], cut_rule=above_mean_cut
            )
            for d in DETECTIONS
            for c, (scores, cluster_vectors) in similar.items()
        }
        tfidf = tfidf_inputs(dataset, task)
        rows.append(
            {
                "dataset": dataset.name,
                "seed": seed,
                "uncovered": int(task.truly_uncovered.sum()),
                "pairs": figures,
                "tfidf": score_system(task, tfidf.scores, tfidf.vectors),
            }
        )
    return rows


def detection_summary(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per (detection, similarity) pair over all rows: worst F1 and ARI, the smallest margin
    to TF-IDF on each, how often each is not above TF-IDF, how often both are above."""
    out = {}
    for name in rows[0]["pairs"] if rows else []:
        f1 = [r["pairs"][name]["f1"] for r in rows]
        ari = [r["pairs"][name]["ari"] or 0.0 for r in rows]
        f1_margin = [v - r["tfidf"]["f1"] for v, r in zip(f1, rows, strict=True)]
        ari_margin = [v - (r["tfidf"]["ari"] or 0.0) for v, r in zip(ari, rows, strict=True)]
        out[name] = {
            "worst_f1": round(min(f1), 4),
            "worst_f1_margin": round(min(f1_margin), 4),
            "f1_not_above": sum(m <= 0 for m in f1_margin),
            "mean_f1": round(float(np.mean(f1)), 4),
            "worst_ari": round(min(ari), 4),
            "worst_ari_margin": round(min(ari_margin), 4),
            "ari_below": sum(m < 0 for m in ari_margin),
            "ari_not_above": sum(m <= 0 for m in ari_margin),
            "mean_ari": round(float(np.mean(ari)), 4),
            "both_above": sum(f > 0 and a > 0 for f, a in zip(f1_margin, ari_margin, strict=True)),
            "draws": len(rows),
        }
    return out


def _detections_main(args: argparse.Namespace, embedder: Embedder, max_words: int) -> None:
    rows: list[dict[str, Any]] = []
    print("set seed uncovered | pair: F1 / ARI ... | tfidf F1 / ARI")
    for name in args.sets:
        found = detection_sweep(
            DATA_DIR / "retrieval" / name,
            embedder,
            seeds=args.seeds,
            max_words=max_words,
            cache_dir=args.cache_dir,
        )
        for row in found:
            cells = [f"{p}: {v['f1']} / {v['ari']}" for p, v in row["pairs"].items()]
            tfidf = row["tfidf"]
            print(
                f"{name} {row['seed']} {row['uncovered']} | "
                + " | ".join(cells)
                + f" | tfidf {tfidf['f1']} / {tfidf['ari']}",
                flush=True,
            )
        rows += found
    print(json.dumps(detection_summary(rows), indent=1))
    if args.json:
        args.json.write_text(json.dumps(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--json", type=Path, help="Also write every row to this file.")
    parser.add_argument(
        "--detections",
        action="store_true",
        help="Compare detection scores and cluster similarities instead of merge rules.",
    )
    args = parser.parse_args()
    settings = Settings()
    embedder = components.load_configured_embedder(settings)
    if args.detections:
        _detections_main(args, embedder, settings.chunk_max_words)
        return
    rows: list[dict[str, Any]] = []
    print(
        "set seed uncovered | "
        + " | ".join(f"{n} ARI sw / tfidf" for n in RULE_NAMES)
        + " | ceiling"
    )
    for name in args.sets:
        found = sweep(
            DATA_DIR / "retrieval" / name,
            embedder,
            seeds=args.seeds,
            max_words=settings.chunk_max_words,
            cache_dir=args.cache_dir,
        )
        for row in found:
            cells = [
                f"{row['rules'][n]['stellwerk']['ari']} / {row['rules'][n]['tfidf']['ari']}"
                for n in RULE_NAMES
            ]
            top = row["ceiling"]
            print(
                f"{name} {row['seed']} {row['uncovered']} | "
                + " | ".join(cells)
                + f" | {top['stellwerk']} / {top['tfidf']}",
                flush=True,
            )
        rows += found
    print(json.dumps(summary(rows)))
    if args.json:
        args.json.write_text(json.dumps(rows) + "\n")


if __name__ == "__main__":
    main()
