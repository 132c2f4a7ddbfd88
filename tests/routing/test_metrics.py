"""Routing metrics on numbers small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from routing.metrics import (
    accuracy_at_coverage,
    expected_calibration_error,
    macro_f1,
    per_team,
    routing_report,
    top_k_accuracy,
)


def test_ece_sums_bin_gaps_weighted_by_bin_size() -> None:
    # Bin (0.9, 1.0]: confidence 0.95, accuracy 0.5 -> gap 0.45, weight 0.5.
    # Bin (0.6, 0.7]: confidence 0.65, accuracy 1.0 -> gap 0.35, weight 0.5.
    ece = expected_calibration_error([0.95, 0.95, 0.65, 0.65], [True, False, True, True])
    assert ece == pytest.approx(0.45 * 0.5 + 0.35 * 0.5)


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    confidence = [0.75] * 4
    assert expected_calibration_error(confidence, [True, True, True, False]) == pytest.approx(0.0)


def test_ece_bins_are_closed_on_the_right() -> None:
    # 0.8 belongs to (0.7, 0.8], 0.0 to the first bin: two bins, each exact.
    assert expected_calibration_error([0.8, 0.0], [True, False]) == pytest.approx(0.1)


def test_accuracy_at_coverage_keeps_the_most_confident_share() -> None:
    confidence = [0.5, 0.9, 0.7, 0.8, 0.6]
    correct = [False, True, False, True, True]
    # Sorted by confidence: 0.9 T, 0.8 T, 0.7 F, 0.6 T, 0.5 F.
    assert accuracy_at_coverage(confidence, correct, 0.8) == pytest.approx(3 / 4)
    assert accuracy_at_coverage(confidence, correct, 0.4) == pytest.approx(1.0)
    assert accuracy_at_coverage(confidence, correct, 1.0) == pytest.approx(3 / 5)


def test_top_k_accuracy_counts_the_truth_among_the_k_best() -> None:
    probabilities = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    truth = [1, 2, 2]
    assert top_k_accuracy(probabilities, truth, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(probabilities, truth, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(probabilities, truth, 3) == pytest.approx(1.0)


def test_per_team_and_macro_f1() -> None:
    truth = ["a", "a", "b", "b"]
    predicted = ["a", "b", "b", "b"]
    figures = per_team(truth, predicted)
    assert figures["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert figures["b"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert macro_f1(truth, predicted) == pytest.approx((2 / 3 + 0.8) / 2)


def test_routing_report_counts_an_unseen_team_as_a_miss() -> None:
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8]])
    report = routing_report(probabilities, ["a", "b"], ["a", "c"])
    assert report["accuracy"] == 0.5
    assert report["top3_accuracy"] == 0.5
    assert report["per_team"]["c"]["recall"] == 0.0


def test_risk_coverage_is_accuracy_of_the_most_confident_share() -> None:
    from routing.metrics import risk_coverage

    confidence = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    correct = [True, True, True, True, False, True, False, False, False, False]
    curve = risk_coverage(confidence, correct)
    assert curve == {"0.5": 0.8, "0.6": 0.8333, "0.7": 0.7143, "0.8": 0.625, "0.9": 0.5556}


def test_reliability_table_lists_stated_against_observed_per_band() -> None:
    from routing.metrics import reliability_table

    table = reliability_table([0.95, 0.95, 0.65, 0.61, 0.05], [True, False, True, True, False])
    assert table == [
        {"band": "0.0-0.1", "tickets": 1, "confidence": 0.05, "accuracy": 0.0},
        {"band": "0.6-0.7", "tickets": 2, "confidence": 0.63, "accuracy": 1.0},
        {"band": "0.9-1.0", "tickets": 2, "confidence": 0.95, "accuracy": 0.5},
    ]


def test_the_batched_ece_is_each_rows_weighted_bin_gap() -> None:
    from routing.metrics import _ece_rows

    rng = np.random.default_rng(3)
    conf = rng.random((4, 50))
    hits = (rng.random((4, 50)) < 0.6).astype(np.float64)
    batched = _ece_rows(conf, hits, 10)
    for row in range(4):
        # By the definition: per bin, its share of tickets times |accuracy - confidence|.
        bins = np.clip(np.ceil(conf[row] * 10).astype(int) - 1, 0, 9)
        expected = sum(
            (bins == b).mean() * abs(hits[row][bins == b].mean() - conf[row][bins == b].mean())
            for b in range(10)
            if (bins == b).any()
        )
        assert batched[row] == pytest.approx(expected)


def test_ece_noise_shrinks_with_the_tickets_and_spots_a_calibrated_floor() -> None:
    from routing.metrics import ece_noise

    rng = np.random.default_rng(5)
    few, many = (rng.uniform(0.2, 0.9, size=n) for n in (100, 5_000))
    small = ece_noise(few.tolist(), (rng.random(100) < few).tolist())
    large = ece_noise(many.tolist(), (rng.random(5_000) < many).tolist())
    assert large["standard_error"] < small["standard_error"] / 3
    assert large["if_calibrated"] < small["if_calibrated"] / 3
    assert 0.02 < small["if_calibrated"] < 0.15


def test_a_routing_report_says_how_noisy_its_ece_is() -> None:
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    report = routing_report(probabilities, ["a", "b"], ["a", "b", "b", "b"])
    assert report["ece_noise"]["standard_error"] > 0
    assert report["ece_noise"]["if_calibrated"] > 0
