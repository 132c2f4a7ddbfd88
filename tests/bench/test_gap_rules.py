"""bench.gap_rules on the synthetic BEIR folder of tests/app/test_gaps_eval.py (fake model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.services.gaps_cut import coverage_of
from app.services.gaps_eval import evaluate_gaps
from bench.gap_rules import RULES, ceiling, ks_merge, summary, sweep
from tests.app.test_gaps_eval import _beir
from tests.fakes import HashingEmbedder


def test_the_median_rule_reproduces_the_evaluation_and_each_seed_is_its_own_draw(
    tmp_path: Path,
) -> None:
    folder = _beir(tmp_path / "set")
    rows = sweep(folder, HashingEmbedder(), seeds=[0, 1], max_words=100)
    assert [row["seed"] for row in rows] == [0, 1]
    shipped = evaluate_gaps(folder, HashingEmbedder(), remove_fraction=0.2, seed=0, max_words=100)
    assert rows[0]["rules"]["median"] == shipped["systems"]
    assert set(rows[0]["rules"]) == set(RULES) == {"median", "ks"}
    # A different seed removes different documents: other queries are the uncovered ones.
    second = evaluate_gaps(folder, HashingEmbedder(), remove_fraction=0.2, seed=1, max_words=100)
    assert rows[1]["rules"]["median"] == second["systems"]
    # No rule beats the best single cut.
    for row in rows:
        for system, top in row["ceiling"].items():
            assert all(row["rules"][n][system]["ari"] <= top for n in RULES)


def test_the_ks_rule_is_the_separating_point_of_the_covered_best_and_runner_up() -> None:
    scores = np.array([[0.9, 0.5, 0.0], [0.1, 0.8, 0.4], [0.3, 0.2, 0.7], [0.35, 0.1, 0.0]])
    covered = np.array([True, True, True, False])
    assert ks_merge(coverage_of(scores), covered) == pytest.approx(0.5)  # highest runner-up
    # Nothing covered: the shipped rule's answer (the highest best score).
    assert ks_merge(coverage_of(scores), np.zeros(4, dtype=bool)) == pytest.approx(0.9)


def test_ceiling_is_the_best_single_cut() -> None:
    # Two tight pairs far apart: some cut separates them exactly.
    vectors = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [0.141, 0.99]], dtype=np.float32)
    assert ceiling(vectors, np.array([0, 0, 1, 1])) == 1.0


def test_summary_counts_margins_per_rule() -> None:
    def row(sw: float, tf: float) -> dict[str, object]:
        figures = {"stellwerk": {"ari": sw}, "tfidf": {"ari": tf}}
        return {"rules": {"median": figures, "ks": figures}}

    found = summary([row(0.5, 0.3), row(0.4, 0.4), row(0.2, 0.3)])["median"]
    assert found["below"] == 1 and found["level"] == 1 and found["above"] == 1
    assert found["worst_margin"] == -0.1 and found["worst_ari"] == 0.2
