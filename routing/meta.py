"""Meta-models that turn the base learners' scores into team probabilities, and their CV.

Two kinds: "logistic", a multinomial regression reading every learner's score of every team
(learners x teams inputs per team), and "pooled", one weight per learner and one bias per
team. The first learns per-team trust and wins on a few balanced teams; the second has
learners + teams parameters and cannot overfit a long tail of tiny teams.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
MetaKind = Literal["logistic", "pooled"]


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


def meta_inputs(kind: str, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """What a meta-model of `kind` reads from tickets x teams x learners scores."""
    if kind == "pooled":
        return features
    # "logistic": every learner's score of every team feeds every team's logit.
    return features.transpose(0, 2, 1).reshape(len(features), -1)


def new_meta(kind: str, *, l2: float, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    if kind == "pooled":
        return PooledSoftmax(l2)
    if kind == "logistic":
        return LogisticRegression(C=c, max_iter=2000)
    raise ValueError(f"Unknown meta-model {kind!r}: pooled or logistic.")


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
