"""bench.gap_rules on the synthetic BEIR folder of tests/app/test_gaps_eval.py (fake model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.services.gaps_cut import coverage_of
from app.services.gaps_eval import evaluate_gaps
from bench.gap_rules import (
    DETECTIONS,
    RULE_NAMES,
    RULES,
    SIMILARITIES,
    ceiling,
    chance_band,
    detection_summary,
    detection_sweep,
    guarded_ks_merge,
    ks_merge,
    pair_rules,
    summary,
    sweep,
)
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
    assert set(RULES) == {"median", "ks", "ks guarded"}
    assert set(rows[0]["rules"]) == set(RULE_NAMES) == {*RULES, "pairs median", "pairs KS"}
    # A different seed removes different documents: other queries are the uncovered ones.
    second = evaluate_gaps(folder, HashingEmbedder(), remove_fraction=0.2, seed=1, max_words=100)
    assert rows[1]["rules"]["median"] == second["systems"]
    # No rule beats the best single cut.
    for row in rows:
        for system, top in row["ceiling"].items():
            assert all(row["rules"][n][system]["ari"] <= top for n in RULE_NAMES)


def test_the_ks_rule_is_the_separating_point_of_the_covered_best_and_runner_up() -> None:
    scores = np.array([[0.9, 0.5, 0.0], [0.1, 0.8, 0.4], [0.3, 0.2, 0.7], [0.35, 0.1, 0.0]])
    covered = np.array([True, True, True, False])
    assert ks_merge(coverage_of(scores), covered) == pytest.approx(0.5)  # highest runner-up
    # Nothing covered: the shipped rule's answer (the highest best score).
    assert ks_merge(coverage_of(scores), np.zeros(4, dtype=bool)) == pytest.approx(0.9)


def test_the_guarded_ks_rule_takes_the_ks_point_only_beyond_chance() -> None:
    # Seven covered candidates whose best and runner-up never overlap (D = 1): on seven
    # values two distribution functions can differ by 1.03 by chance, so the median.
    rng = np.random.default_rng(0)
    best = np.linspace(0.6, 0.9, 7)
    scores = np.column_stack([best, best - 0.5, best - 0.6])
    covered = np.ones(7, dtype=bool)
    assert chance_band(7) == pytest.approx(2 * np.sqrt(np.log(40) / 14))
    assert chance_band(7) > 1.0
    assert guarded_ks_merge(coverage_of(scores), covered) == pytest.approx(np.median(best))
    assert ks_merge(coverage_of(scores), covered) == pytest.approx(0.4)  # highest runner-up
    # Sixty such candidates: the band is 0.35, so the KS point stands.
    many = rng.uniform(0.6, 0.9, 60)
    scores = np.column_stack([many, many - 0.5, many - 0.6])
    covered = np.ones(60, dtype=bool)
    assert chance_band(60) < 0.4
    assert guarded_ks_merge(coverage_of(scores), covered) == pytest.approx(many.max() - 0.5)
    # Nothing covered: the shipped rule's answer.
    assert guarded_ks_merge(coverage_of(scores), np.zeros(60, dtype=bool)) == pytest.approx(
        many.max()
    )


def test_the_pair_rules_read_pairs_of_covered_candidates_by_their_shared_article() -> None:
    # Candidates 0-1 share article 0, 2-3 share article 1, 4 is not covered.
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.7], [0.3, 0.3]])
    angles = np.array([0.0, 0.3, 1.5, 1.2, 0.75])  # pair cosines: cos(angle difference)
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    covered = np.array([True, True, True, True, False])
    rules = pair_rules(vectors)
    same = [np.cos(0.3), np.cos(0.3)]  # 0-1 and 2-3
    assert rules["pairs median"](coverage_of(scores), covered) == pytest.approx(np.median(same))
    # Different-article pairs are at most cos(0.9): the KS point is the highest of them.
    assert rules["pairs KS"](coverage_of(scores), covered) == pytest.approx(np.cos(0.9))
    # Every covered pair under one article: nothing to compare with, the shipped rule.
    one = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.1], [0.2, 0.1]])
    assert rules["pairs median"](coverage_of(one), np.array([True, True, True, False])) == (
        pytest.approx(0.8)
    )


def test_ceiling_is_the_best_single_cut() -> None:
    # Two tight pairs far apart: some cut separates them exactly.
    vectors = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [0.141, 0.99]], dtype=np.float32)
    assert ceiling(vectors, np.array([0, 0, 1, 1])) == 1.0


def test_summary_counts_margins_per_rule() -> None:
    def row(sw: float, tf: float) -> dict[str, object]:
        figures = {"stellwerk": {"ari": sw}, "tfidf": {"ari": tf}}
        return {"rules": dict.fromkeys(RULE_NAMES, figures)}

    found = summary([row(0.5, 0.3), row(0.4, 0.4), row(0.2, 0.3)])["median"]
    assert found["below"] == 1 and found["level"] == 1 and found["above"] == 1
    assert found["worst_margin"] == -0.1 and found["worst_ari"] == 0.2


def test_the_detection_sweep_scores_the_shipped_pair_as_the_evaluation_does(
    tmp_path: Path,
) -> None:
    folder = _beir(tmp_path / "set")
    rows = detection_sweep(folder, HashingEmbedder(), seeds=[0, 1], max_words=100)
    assert set(rows[0]["pairs"]) == {f"{d} / {s}" for d in DETECTIONS for s in SIMILARITIES}
    for row in rows:
        shipped = evaluate_gaps(
            folder, HashingEmbedder(), remove_fraction=0.2, seed=row["seed"], max_words=100
        )["systems"]
        assert row["pairs"][f"{DETECTIONS[0]} / {SIMILARITIES[0]}"] == shipped["stellwerk"]
        assert row["tfidf"] == shipped["tfidf"]
    # Ten distinct topics: at seed 0 dense + BM25 finds exactly the removed documents'
    # queries, and the key terms keep their two pairs apart.
    for similarity in SIMILARITIES:
        found = rows[0]["pairs"][f"{DETECTIONS[1]} / {similarity}"]
        assert found["f1"] == 1.0 and found["ari"] == 1.0
    summary = detection_summary(rows)
    assert all(found["draws"] == 2 for found in summary.values())


def test_the_detection_summary_takes_the_worst_draw_and_counts_margins() -> None:
    def row(f1: float, ari: float, tf_f1: float, tf_ari: float) -> dict[str, object]:
        return {"pairs": {"p": {"f1": f1, "ari": ari}}, "tfidf": {"f1": tf_f1, "ari": tf_ari}}

    found = detection_summary([row(0.5, 0.6, 0.4, 0.3), row(0.3, 0.2, 0.35, 0.2)])["p"]
    assert found["worst_f1"] == 0.3 and found["worst_f1_margin"] == -0.05
    assert found["f1_not_above"] == 1 and found["ari_below"] == 0
    assert found["ari_not_above"] == 1 and found["both_above"] == 1
