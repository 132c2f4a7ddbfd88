"""Routing quality figures: accuracy, macro-F1, top-3, accuracy at coverage, calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


def _rounded(value: float) -> float:
    return round(float(value), 4)


def top_k_accuracy(probabilities: Matrix, truth: Sequence[int], k: int) -> float:
    """Share of tickets whose true team is among the k most probable."""
    if len(truth) == 0:
        return 0.0
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float(np.mean([label in row for label, row in zip(truth, top, strict=True)]))


def accuracy_at_coverage(
    confidence: Sequence[float], correct: Sequence[bool], coverage: float
) -> float:
    """Accuracy on the `coverage` share of tickets with the highest confidence.

    Ties are broken by order, so the figure is deterministic; the count is rounded up so that
    coverage 0.8 of 5 tickets reads 4.
    """
    if len(confidence) == 0:
        return 0.0
    keep = max(1, int(np.ceil(coverage * len(confidence) - 1e-9)))
    order = np.argsort(-np.asarray(confidence, dtype=np.float64), kind="stable")[:keep]
    return float(np.mean(np.asarray(correct, dtype=bool)[order]))


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """ECE over `bins` equal-width confidence bins: sum of |accuracy - confidence| by weight.

    Bins are closed on the right ((0, 0.1], (0.1, 0.2], ...), the first also holds 0.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    if len(conf) == 0:
        return 0.0
    hits = np.asarray(correct, dtype=np.float64)
    return float(_ece_rows(conf[None, :], hits[None, :], bins)[0])


def _ece_rows(conf: Matrix, hits: Matrix, bins: int) -> Matrix:
    """The ECE of every row of (draws x tickets) arrays at once: a bin's weight times its
    gap, |mean hit - mean confidence| x members / tickets, is |sum of (hit - confidence)|
    over its members / tickets."""
    index = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    error = np.zeros(conf.shape[0])
    for bin_index in range(bins):
        error += np.abs(((hits - conf) * (index == bin_index)).sum(axis=1))
    return np.asarray(error / conf.shape[1], dtype=np.float64)


ECE_DRAWS = 200


def ece_noise(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10, *, seed: int = 0
) -> dict[str, float]:
    """How far an ECE on this many tickets can be trusted, in two figures.

    `standard_error`: the spread of the ECE over bootstrap resamples of the tickets.
    `if_calibrated`: the ECE a perfectly calibrated router stating these same confidences
    would show on this many tickets (each ticket right with its stated probability), the
    floor that sampling alone puts under the figure. On a few hundred tickets both are
    around 0.01-0.02, so an ECE of 0.045 and one of 0.055 are the same calibration.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    hits = np.asarray(correct, dtype=np.float64)
    if len(conf) == 0:
        return {"standard_error": 0.0, "if_calibrated": 0.0}
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(conf), size=(ECE_DRAWS, len(conf)))
    resampled = _ece_rows(conf[rows], hits[rows], bins)
    stated = np.broadcast_to(conf, (ECE_DRAWS, len(conf)))
    simulated = (rng.random((ECE_DRAWS, len(conf))) < stated).astype(np.float64)
    return {
        "standard_error": _rounded(resampled.std()),
        "if_calibrated": _rounded(_ece_rows(stated, simulated, bins).mean()),
    }


COVERAGES = (0.5, 0.6, 0.7, 0.8, 0.9)


def risk_coverage(confidence: Sequence[float], correct: Sequence[bool]) -> dict[str, float]:
    """Accuracy at 50, 60, 70, 80 and 90 % coverage: what a dispatcher threshold buys.

    Keys are the coverage as a string ("0.8"), so the figures survive a JSON round trip.
    """
    return {
        str(coverage): _rounded(accuracy_at_coverage(confidence, correct, coverage))
        for coverage in COVERAGES
    }


def reliability_table(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> list[dict[str, Any]]:
    """Per confidence band ((0, 0.1], ..., (0.9, 1]): tickets, mean stated confidence and
    observed accuracy; empty bands are left out. The bands of `expected_calibration_error`."""
    conf = np.asarray(confidence, dtype=np.float64)
    hits = np.asarray(correct, dtype=np.float64)
    index = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    rows: list[dict[str, Any]] = []
    for bin_index in range(bins):
        members = index == bin_index
        if members.any():
            rows.append(
                {
                    "band": f"{bin_index / bins:.1f}-{(bin_index + 1) / bins:.1f}",
                    "tickets": int(members.sum()),
                    "confidence": _rounded(conf[members].mean()),
                    "accuracy": _rounded(hits[members].mean()),
                }
            )
    return rows


def _team_figures(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for team in sorted(set(truth) | set(predicted)):
        true_positive = sum(t == team and p == team for t, p in zip(truth, predicted, strict=True))
        predicted_count = sum(p == team for p in predicted)
        support = sum(t == team for t in truth)
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures[team] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return figures


def per_team(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Precision, recall, F1 and support for every team seen in truth or predictions."""
    return {
        team: {
            "precision": _rounded(f["precision"]),
            "recall": _rounded(f["recall"]),
            "f1": _rounded(f["f1"]),
            "support": int(f["support"]),
        }
        for team, f in _team_figures(truth, predicted).items()
    }


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the teams present in the truth (sklearn's macro average over labels)."""
    figures = _team_figures(truth, predicted)
    teams = sorted(set(truth))
    return float(np.mean([figures[t]["f1"] for t in teams])) if teams else 0.0


def routing_report(
    probabilities: Matrix, teams: Sequence[str], truth: Sequence[str]
) -> dict[str, Any]:
    """Every figure of `stellwerk eval routing` for one system.

    `probabilities` has one column per team in `teams`; a true team the system never saw
    counts as a miss everywhere.
    """
    position = {team: i for i, team in enumerate(teams)}
    truth_index = [position.get(team, -1) for team in truth]
    best = np.argmax(probabilities, axis=1)
    predicted = [teams[i] for i in best]
    confidence = probabilities[np.arange(len(best)), best]
    correct = [p == t for p, t in zip(predicted, truth, strict=True)]
    return {
        "n": len(truth),
        "accuracy": _rounded(np.mean(correct) if correct else 0.0),
        "macro_f1": _rounded(macro_f1(truth, predicted)),
        "top3_accuracy": _rounded(top_k_accuracy(probabilities, truth_index, 3)),
        "accuracy_at_80_coverage": _rounded(accuracy_at_coverage(confidence, correct, 0.8)),
        "ece": _rounded(expected_calibration_error(confidence, correct)),
        "ece_noise": ece_noise(confidence, correct),
        "mean_confidence": _rounded(np.mean(confidence) if len(confidence) else 0.0),
        "risk_coverage": risk_coverage(confidence, correct),
        "reliability": reliability_table(confidence, correct),
        "per_team": per_team(truth, predicted),
    }
