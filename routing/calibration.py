"""Confidence that stays true: a temperature and an isotonic map fitted on held-out
predictions, and rare teams never stated with more confidence than their tickets carry.

The temperature is fitted on out-of-fold probabilities of the chosen model (tickets none of
its parts was fitted on), by log-loss. A temperature cannot bend: on long tails the held-out
odds were too low in the middle and too high at the top (95 % stated, 87 % right on HBase),
so the top confidence is then mapped to observed accuracy by isotonic regression on the
same held-out tickets (top-label calibration; the ranking stays), with 500 of them or more
(50 a band). The cap is Laplace's rule of succession: a team seen on n tickets is stated at
most n / (n + 1) (one ticket: 50 %, four: 80 %, nine: 90 %); the rest of its probability
goes to the other teams in proportion to theirs, so the ranking below it is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


def with_temperature(probabilities: Matrix, temperature: float) -> Matrix:
    """p^(1/T), renormalised: T > 1 softens, T < 1 sharpens, the ranking stays."""
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


def fit_temperature(probabilities: Matrix, labels: npt.NDArray[np.int64]) -> float:
    """The temperature in [0.25, 8] that minimises the log-loss of held-out predictions."""
    from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]

    if len(labels) == 0:
        return 1.0
    rows = np.arange(len(labels))

    def loss(log_temperature: float) -> float:
        calibrated = with_temperature(probabilities, float(np.exp(log_temperature)))
        return float(-np.log(np.clip(calibrated[rows, labels], 1e-12, 1.0)).mean())

    result = minimize_scalar(loss, bounds=(np.log(0.25), np.log(8.0)), method="bounded")
    return round(float(np.exp(result.x)), 4)


def succession_caps(team_tickets: Sequence[int]) -> Matrix:
    """The highest probability each team may be stated with: n / (n + 1)."""
    counts = np.asarray(team_tickets, dtype=np.float64)
    return np.asarray(counts / (counts + 1.0), dtype=np.float64)


def cap_rare_teams(probabilities: Matrix, caps: Matrix) -> Matrix:
    """Cut each team to its cap and hand the excess to the uncapped teams by their share."""
    capped = probabilities.copy()
    for _ in range(len(caps)):  # a team that receives excess may need cutting in turn
        over = capped > caps + 1e-12
        if not over.any():
            break
        excess = np.where(over, capped - caps, 0.0).sum(axis=1, keepdims=True)
        capped = np.where(over, caps, capped)
        free = np.where(over | (capped >= caps), 0.0, capped)
        total = free.sum(axis=1, keepdims=True)
        share = np.divide(free, total, out=np.zeros_like(free), where=total > 0)
        capped += excess * share
    return np.asarray(capped / capped.sum(axis=1, keepdims=True), dtype=np.float64)


def fit_top_label(
    probabilities: Matrix, labels: npt.NDArray[np.int64]
) -> tuple[Matrix, Matrix] | None:
    """Isotonic map from stated top confidence to observed accuracy, as (x, y) knots.

    None with fewer than `ISOTONIC_MIN_TICKETS` held-out tickets: a step function on a few
    dozen points would state their noise.
    """
    from sklearn.isotonic import IsotonicRegression

    if len(labels) < ISOTONIC_MIN_TICKETS:
        return None
    top = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(top, correct)
    knots_x = np.asarray(iso.X_thresholds_, dtype=np.float64)
    knots_y = np.asarray(iso.y_thresholds_, dtype=np.float64)
    return knots_x, knots_y


def with_top_label(probabilities: Matrix, knots: tuple[Matrix, Matrix]) -> Matrix:
    """The top team gets its mapped confidence, the others share the rest by their ratio;
    never so low that another team overtakes it. Calibration states how sure the model is,
    never whom it predicts: where the map falls below what keeps the top team first, the
    top team keeps a hair more than the second (a tie would hand the prediction to whichever
    team comes first in column order: on the short support tickets, whose map is flat and
    low, that moved 1.5 points of accuracy, docs/ROUTING.md)."""
    order = np.sort(probabilities, axis=1)
    top, second = order[:, -1], order[:, -2]
    rest = np.maximum(1.0 - top, 1e-12)
    stays_first = second / (rest + second)
    mapped = np.maximum(np.interp(top, *knots), stays_first * (1.0 + KEEP_FIRST) + 1e-12)
    best = probabilities.argmax(axis=1)
    out = probabilities * ((1.0 - mapped) / rest)[:, None]
    out[np.arange(len(best)), best] = mapped
    return np.asarray(out / out.sum(axis=1, keepdims=True), dtype=np.float64)


KEEP_FIRST = 1e-6  # relative margin by which a mapped top team stays ahead of the second


ISOTONIC_MIN_TICKETS = 500


@dataclass(frozen=True)
class Calibration:
    """What turns the chosen model's probabilities into stated confidence: temperature,
    rare-team caps, then (with enough held-out tickets) an isotonic map of the top
    confidence, and the caps once more."""

    temperature: float
    caps: Matrix
    top_label: tuple[Matrix, Matrix] | None = None

    @classmethod
    def fit(
        cls, held_out: Matrix, labels: npt.NDArray[np.int64], team_tickets: Sequence[int]
    ) -> Calibration:
        scaled = cls(fit_temperature(held_out, labels), succession_caps(team_tickets))
        return cls(scaled.temperature, scaled.caps, fit_top_label(scaled.apply(held_out), labels))

    def apply(self, probabilities: Matrix) -> Matrix:
        capped = cap_rare_teams(with_temperature(probabilities, self.temperature), self.caps)
        if self.top_label is None:
            return capped
        return cap_rare_teams(with_top_label(capped, self.top_label), self.caps)

    @property
    def capped_teams(self) -> int:
        """Teams whose cap is below 90 %: those with fewer than nine tickets."""
        return int((self.caps < 0.9).sum())
