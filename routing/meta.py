"""Meta-models that turn the base learners' scores into team probabilities, and their CV.

Three kinds: "logistic", a multinomial regression reading every learner's score of every team
(learners x teams inputs per team), "pooled", one weight per learner and one bias per team,
and "per_team", the pooled weights plus a deviation per learner and team, penalised towards
them. The first learns per-team trust from every team's scores and wins on a few balanced
teams; the second has learners + teams parameters and cannot overfit a long tail of tiny
teams; the third trusts a learner more on the teams it reads well (a small team with words
of its own) without trusting it on the teams it cannot tell apart.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
MetaKind = Literal["logistic", "pooled", "per_team"]
# L2 penalty on the per-team deviations of "per_team", in mean log-loss like `l2` (which
# barely holds the shared weights); 30 times stronger on the deviations, the strength
# whose worst case over the long-tail resamples was best
# (docs/BENCHMARKS.md, issue 18, fifth pass).
TEAM_L2 = 0.03


def log_softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), np.float64)


class PooledSoftmax:
    """The meta-model: one weight per learner and one bias per team.

    The logit of team k is `sum_l w_l * score_lk + b_k`, a product of experts whose weights
    act as per-learner temperatures, fitted on log-loss (which calibrates it) with an L2
    penalty on the weights. With one weight per learner and one bias per team it cannot
    overfit the out-of-fold scores the way a full multinomial regression (learners x teams
    inputs per team) can on many small teams (docs/ROUTING.md).
    """

    def __init__(self, l2: float = 1e-3) -> None:
        self.l2 = l2
        self.weights: Matrix = np.zeros(0)
        self.biases: Matrix = np.zeros(0)

    def fit(self, scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> PooledSoftmax:
        """`scores`: tickets x teams x learners; `labels`: team index per ticket."""
        from scipy.optimize import minimize  # type: ignore[import-untyped]

        count, teams, learners = scores.shape
        rows = np.arange(count)

        def loss(params: Matrix) -> tuple[float, Matrix]:
            weights, biases = params[:learners], params[learners:]
            log_p = log_softmax(scores @ weights + biases)
            residual = np.exp(log_p)
            residual[rows, labels] -= 1.0
            residual /= count
            value = -log_p[rows, labels].mean() + self.l2 * float(weights @ weights)
            gradient = np.concatenate(
                [np.einsum("nk,nkl->l", residual, scores) + 2 * self.l2 * weights, residual.sum(0)]
            )
            return float(value), gradient

        start = np.concatenate([np.full(learners, 0.1), np.zeros(teams)])
        params = minimize(loss, start, jac=True, method="L-BFGS-B").x
        self.weights, self.biases = params[:learners], params[learners:]
        return self

    def predict_proba(self, scores: npt.NDArray[np.float64]) -> Matrix:
        return np.exp(log_softmax(scores @ self.weights + self.biases))


class PerTeamSoftmax:
    """One weight per learner and team, shrunk towards one weight per learner.

    The logit of team k is `sum_l (w_l + d_lk) * score_lk + b_k`, fitted on log-loss with
    L2 penalties `l2` on the shared weights w and `team_l2` on the deviations d. Why: the
    pooled model has one trust per learner for all teams. On a long tail of short tickets
    the learners cannot tell the two big queues apart but can read a small queue with
    words of its own ("billing", "invoice"); one trust for all then says "little" and the
    small queue is never predicted (support long tails: 0 of 14 "Billing and Payments"
    tickets, where the TF-IDF baseline, which calibrates each team's margin on its own,
    gets one). A deviation costs `team_l2 * d^2` of mean log-loss; a rare team's stated
    confidence stays capped by its tickets (routing.calibration). Parameters: learners x
    (teams + 1) + teams; each team's logit reads its own scores only, unlike the logistic
    meta-model (learners x teams inputs for every team).
    """

    def __init__(self, l2: float = 1e-3, team_l2: float = TEAM_L2) -> None:
        self.l2 = l2
        self.team_l2 = team_l2
        self.weights: Matrix = np.zeros(0)  # learners
        self.deviations: Matrix = np.zeros((0, 0))  # learners x teams
        self.biases: Matrix = np.zeros(0)

    def fit(self, scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> PerTeamSoftmax:
        """`scores`: tickets x teams x learners; `labels`: team index per ticket."""
        from scipy.optimize import minimize

        count, teams, learners = scores.shape
        rows = np.arange(count)
        sizes = (learners, learners * teams)

        def loss(params: Matrix) -> tuple[float, Matrix]:
            weights = params[: sizes[0]]
            deviations = params[sizes[0] : sizes[0] + sizes[1]].reshape(learners, teams)
            biases = params[sizes[0] + sizes[1] :]
            trust = weights[:, None] + deviations
            log_p = log_softmax(np.einsum("nkl,lk->nk", scores, trust) + biases)
            residual = np.exp(log_p)
            residual[rows, labels] -= 1.0
            residual /= count
            value = (
                -log_p[rows, labels].mean()
                + self.l2 * float(weights @ weights)
                + self.team_l2 * float((deviations * deviations).sum())
            )
            by_team = np.einsum("nk,nkl->lk", residual, scores)
            gradient = np.concatenate(
                [
                    by_team.sum(axis=1) + 2 * self.l2 * weights,
                    (by_team + 2 * self.team_l2 * deviations).ravel(),
                    residual.sum(0),
                ]
            )
            return float(value), gradient

        start = np.concatenate([np.full(learners, 0.1), np.zeros(learners * teams + teams)])
        params = minimize(loss, start, jac=True, method="L-BFGS-B").x
        self.weights = params[: sizes[0]]
        self.deviations = params[sizes[0] : sizes[0] + sizes[1]].reshape(learners, teams)
        self.biases = params[sizes[0] + sizes[1] :]
        return self

    def predict_proba(self, scores: npt.NDArray[np.float64]) -> Matrix:
        trust = self.weights[:, None] + self.deviations
        return np.exp(log_softmax(np.einsum("nkl,lk->nk", scores, trust) + self.biases))


def meta_inputs(kind: str, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """What a meta-model of `kind` reads from tickets x teams x learners scores."""
    if kind in ("pooled", "per_team"):
        return features
    # "logistic": every learner's score of every team feeds every team's logit.
    return features.transpose(0, 2, 1).reshape(len(features), -1)


def new_meta(kind: str, *, l2: float, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    if kind == "pooled":
        return PooledSoftmax(l2)
    if kind == "per_team":
        return PerTeamSoftmax(l2)
    if kind == "logistic":
        return LogisticRegression(C=c, max_iter=2000)
    raise ValueError(f"Unknown meta-model {kind!r}: pooled, per_team or logistic.")


def meta_probabilities(
    meta: Any, inputs: npt.NDArray[np.float64], teams: int, *, trained_on: int
) -> Matrix:
    """Probabilities with one column per team, also for teams the meta-model never saw
    (a fold without them): those get the share of one ticket among `trained_on`."""
    probabilities = np.asarray(meta.predict_proba(inputs), dtype=np.float64)
    columns = getattr(meta, "classes_", None)
    if columns is None or len(columns) == teams:
        return probabilities
    full = np.full((len(inputs), teams), 1.0 / max(1, trained_on))
    full[:, np.asarray(columns)] = probabilities
    return np.asarray(full / full.sum(axis=1, keepdims=True), dtype=np.float64)


def cross_validated(
    kind: str,
    features: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    groups: npt.NDArray[np.int64],
    *,
    folds: int,
    seed: int,
    l2: float,
    c: float,
) -> Matrix:
    """Held-out probabilities of a meta-model of `kind` on out-of-fold learner scores.

    Folds keep near-duplicate groups together, as the learners' folds do; the scores are
    already there, so this is cheap beside fitting the learners.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    teams = features.shape[1]
    inputs = meta_inputs(kind, features)
    folds = max(2, min(folds, len(np.unique(groups))))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    probabilities = np.full((len(labels), teams), 1.0 / teams)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # teams smaller than the folds
        splits = list(splitter.split(inputs, labels, groups))
    for train, held_out in splits:
        if len(np.unique(labels[train])) < 2:
            continue
        meta = new_meta(kind, l2=l2, c=c).fit(inputs[train], labels[train])
        probabilities[held_out] = meta_probabilities(
            meta, inputs[held_out], teams, trained_on=len(train)
        )
    return probabilities


def log_loss_per_ticket(probabilities: Matrix, labels: npt.NDArray[np.int64]) -> Matrix:
    truth = probabilities[np.arange(len(labels)), labels]
    return np.asarray(-np.log(np.clip(truth, 1e-12, 1.0)), dtype=np.float64)
