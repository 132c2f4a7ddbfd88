"""Confidence that stays true: a shrink towards the team shares, a temperature and an
isotonic map fitted on held-out predictions, and rare teams never stated with more
confidence than their tickets carry.

The shrink and the temperature are fitted together on out-of-fold probabilities of the
chosen model (tickets none of its parts was fitted on), by log-loss: the stated confidence
is that of (1 - w) x the model + w x the training tickets' team shares. On a few hundred
short tickets where the best model is barely better than the share of the biggest team,
the held-out tickets ask for w = 0.1-0.25, which a temperature cannot say (it scales odds,
it cannot pull them towards the shares). The shrink sets the confidence, never the
ranking: which team comes first stays the model's. A temperature cannot bend either: on
long tails the held-out odds were too low in the middle and too high at the top (95 %
stated, 87 % right on HBase), so the top confidence is then mapped to observed accuracy by
isotonic regression on the same held-out tickets (top-label calibration; the ranking
stays), with 500 of them or more and only where the map lowers the top-label Brier score
on held-out folds of them (on 896 support tickets it did not). The cap is Laplace's rule of
succession: a team seen on n tickets is stated at most n / (n + 1) (one ticket: 50 %,
four: 80 %, nine: 90 %); the rest of its probability goes to the other teams in proportion
to theirs, so the ranking below it is unchanged.
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


# The shrink weights w tried; past 0.5 the model would say less than the team shares.
PRIOR_WEIGHTS = tuple(round(0.05 * step, 2) for step in range(11))


def with_prior(probabilities: Matrix, prior: Matrix, weight: float) -> Matrix:
    """(1 - weight) x probabilities + weight x prior: shrunk towards the team shares."""
    return np.asarray((1.0 - weight) * probabilities + weight * prior, dtype=np.float64)


def _log_loss(probabilities: Matrix, labels: npt.NDArray[np.int64]) -> float:
    truth = probabilities[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(truth, 1e-12, 1.0)).mean())


def fit_prior_and_temperature(
    probabilities: Matrix, labels: npt.NDArray[np.int64], prior: Matrix
) -> tuple[float, float]:
    """(weight, temperature) minimising the held-out log-loss; the smallest weight on ties."""
    best = (np.inf, 0.0, 1.0)
    for weight in PRIOR_WEIGHTS:
        shrunk = with_prior(probabilities, prior, weight)
        temperature = fit_temperature(shrunk, labels)
        loss = _log_loss(with_temperature(shrunk, temperature), labels)
        if loss < best[0] - 1e-9:
            best = (loss, weight, temperature)
    return best[1], best[2]


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


def _isotonic(top: Matrix, correct: Matrix) -> tuple[Matrix, Matrix]:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(top, correct)
    return (
        np.asarray(iso.X_thresholds_, dtype=np.float64),
        np.asarray(iso.y_thresholds_, dtype=np.float64),
    )


def top_label_check(
    probabilities: Matrix, labels: npt.NDArray[np.int64], *, folds: int = 5, seed: int = 0
) -> tuple[float, float]:
    """Top-label Brier score (mean of (stated - right)^2) without and with the isotonic map,
    the map fitted on the other folds of the held-out tickets each time."""
    top = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    mapped = top.copy()
    order = np.random.default_rng(seed).permutation(len(labels))
    for part in np.array_split(order, folds):
        rest = np.setdiff1d(order, part)
        mapped[part] = np.interp(top[part], *_isotonic(top[rest], correct[rest]))
    without = float(((top - correct) ** 2).mean())
    return round(without, 5), round(float(((mapped - correct) ** 2).mean()), 5)


def fit_top_label(
    probabilities: Matrix, labels: npt.NDArray[np.int64]
) -> tuple[Matrix, Matrix] | None:
    """Isotonic map from stated top confidence to observed accuracy, as (x, y) knots.

    None with fewer than `ISOTONIC_MIN_TICKETS` held-out tickets (a step function on a few
    dozen points would state their noise) or where the map does not lower the top-label
    Brier score on held-out folds (`top_label_check`).
    """
    if len(labels) < ISOTONIC_MIN_TICKETS:
        return None
    without, with_map = top_label_check(probabilities, labels)
    if with_map >= without:
        return None
    top = probabilities.max(axis=1)
    return _isotonic(top, (probabilities.argmax(axis=1) == labels).astype(np.float64))


def with_top_label(probabilities: Matrix, knots: tuple[Matrix, Matrix]) -> Matrix:
    """The top team gets its mapped confidence, the others share the rest by their ratio;
    never so low that another team overtakes it. Calibration states how sure the model is,
    never whom it predicts: where the map falls below what keeps the top team first, the
    top team keeps a hair more than the second (a tie would hand the prediction to whichever
    team comes first in column order: on the short support tickets, whose map is flat and
    low, that moved 1.5 points of accuracy, docs/ROUTING.md)."""
    return with_top_confidence(probabilities, np.interp(probabilities.max(axis=1), *knots))


def with_top_confidence(probabilities: Matrix, confidence: Matrix) -> Matrix:
    """The top team of each row stated at `confidence`, the others sharing the rest by
    their ratio; never so low that another team overtakes it (see `with_top_label`)."""
    order = np.sort(probabilities, axis=1)
    top, second = order[:, -1], order[:, -2]
    rest = np.maximum(1.0 - top, 1e-12)
    stays_first = second / (rest + second)
    mapped = np.maximum(confidence, stays_first * (1.0 + KEEP_FIRST) + 1e-12)
    best = probabilities.argmax(axis=1)
    out = probabilities * ((1.0 - mapped) / rest)[:, None]
    out[np.arange(len(best)), best] = mapped
    return np.asarray(out / out.sum(axis=1, keepdims=True), dtype=np.float64)


KEEP_FIRST = 1e-6  # relative margin by which a mapped top team stays ahead of the second


ISOTONIC_MIN_TICKETS = 500


@dataclass(frozen=True)
class Calibration:
    """What turns the chosen model's probabilities into stated confidence: the shrink
    towards the team shares with its temperature, rare-team caps, then (with enough held-out
    tickets, where it helps on held-out folds) an isotonic map of the top confidence, and
    the caps once more."""

    temperature: float
    caps: Matrix
    top_label: tuple[Matrix, Matrix] | None = None
    # Defaults: calibrations pickled before the shrink existed load without it.
    prior: Matrix | None = None  # the training tickets' team shares
    prior_weight: float = 0.0
    # Top-label Brier score on held-out folds without and with the isotonic map.
    top_label_brier: tuple[float, float] | None = None

    @classmethod
    def fit(
        cls, held_out: Matrix, labels: npt.NDArray[np.int64], team_tickets: Sequence[int]
    ) -> Calibration:
        counts = np.asarray(team_tickets, dtype=np.float64)
        prior = counts / max(1.0, float(counts.sum()))
        weight, temperature = fit_prior_and_temperature(held_out, labels, prior)
        scaled = cls(temperature, succession_caps(team_tickets), None, prior, weight)
        stated = scaled.apply(held_out)
        check = top_label_check(stated, labels) if len(labels) >= ISOTONIC_MIN_TICKETS else None
        top_label = fit_top_label(stated, labels)
        return cls(temperature, scaled.caps, top_label, prior, weight, check)

    def apply(self, probabilities: Matrix) -> Matrix:
        scaled = with_temperature(probabilities, self.temperature)
        if self.prior is not None and self.prior_weight > 0.0:
            # The shrunk model's confidence in the model's own top team.
            shrunk = with_temperature(
                with_prior(probabilities, self.prior, self.prior_weight), self.temperature
            )
            best = probabilities.argmax(axis=1)
            scaled = with_top_confidence(scaled, shrunk[np.arange(len(best)), best])
        capped = cap_rare_teams(scaled, self.caps)
        if self.top_label is None:
            return capped
        return cap_rare_teams(with_top_label(capped, self.top_label), self.caps)

    @property
    def capped_teams(self) -> int:
        """Teams whose cap is below 90 %: those with fewer than nine tickets."""
        return int((self.caps < 0.9).sum())
