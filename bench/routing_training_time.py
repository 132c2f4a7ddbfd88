"""Wall-clock time of one routing classifier fit at a given size, on real endava texts.

    python -m bench.routing_training_time --tickets 20000

Texts and teams are real (endava train, stratified sample, seed 0); the two embeddings are
seeded random unit vectors of the real models' dimension (384 each), since encoding 20,000
tickets twice costs far more than the fit on a shared machine. The fit's cost depends on
the sizes, not on what the vectors mean; the choice it makes on random vectors does not
matter here and is printed only to say which learners the final fit kept. Then the fitted
classifier routes `--queries` tickets one at a time (its share of /suggest latency).
Run it from a checkout of each commit to compare (`ClassifierConfig` of that commit).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bench.common import ENDAVA_DIR
from routing.dataset import read_labelled, stratified_sample
from routing.model import TeamClassifier


def unit_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dim))
    return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200, help="Single-ticket predictions.")
    args = parser.parse_args()
    tickets = stratified_sample(read_labelled(ENDAVA_DIR / "train.jsonl"), args.tickets, seed=0)
    texts = [t.text.lexical for t in tickets]
    teams = [t.team for t in tickets]
    dense = unit_vectors(len(tickets), args.dim, 1)
    second = unit_vectors(len(tickets), args.dim, 2)
    started = time.perf_counter()
    classifier = TeamClassifier().fit(texts, dense, teams, second=second)
    seconds = time.perf_counter() - started
    # One ticket at a time, as /suggest routes: the router's share of its latency.
    latencies = []
    for row in range(args.queries):
        one = slice(row, row + 1)
        begin = time.perf_counter()
        classifier.predict_proba(texts[one], dense[one], second=second[one])
        latencies.append((time.perf_counter() - begin) * 1000)
    print(
        json.dumps(
            {
                "tickets": len(tickets),
                "fit_seconds": round(seconds, 1),
                "predict_ms_p50": round(float(np.percentile(latencies, 50)), 2),
                "predict_ms_p90": round(float(np.percentile(latencies, 90)), 2),
                "learners_kept": list(classifier.learners),
                "model_choice": getattr(classifier, "model_choice", None),
            }
        )
    )


if __name__ == "__main__":
    main()
