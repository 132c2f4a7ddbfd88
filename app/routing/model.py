"""The trained team classifier: lexical and embedding learners stacked into calibrated odds.

Base learners see different evidence: linear SVMs on TF-IDF of words and of character
n-grams catch product names, error codes, jargon and German compounds; a logistic
regression and a nearest-neighbour vote on the sentence embedding catch paraphrases and
the other language. A multinomial logistic regression fitted on their out-of-fold scores
learns how far to trust each per team and turns the scores into probabilities; fitting it
on log-loss is what calibrates them.
Out-of-fold folds keep near-duplicate tickets together, so paraphrases in the training set
cannot make a base learner look better than it is on new tickets.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from app.routing.features import LexicalFeatures
from index.embedder import Vectors

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ClassifierConfig:
    """Knobs of the classifier; defaults chosen by measurement (docs/ROUTING.md)."""

    learners: tuple[str, ...] = ("svm_words", "svm_chars", "lr_dense", "knn_dense")
    lexical_c: float = 0.5
    embedding_c: float = 10.0
    knn_neighbours: int = 10
    knn_temperature: float = 0.02
    char_ngrams: bool = True
    class_weight: str | None = "balanced"
    folds: int = 5
    meta: str = "logistic"
    meta_l2: float = 1e-3
    meta_c: float = 1.0
    duplicate_cosine: float = 0.97
    seed: int = 0


def single_threaded_blas() -> AbstractContextManager[object]:
    """Limit numpy/scipy BLAS to one thread while fitting and predicting.

    The fits are many small matrix products; on a small machine shared with the embedding
    model and request threads, BLAS threads spin against each other: measured 20x slower
    (9.3 s against 0.4 s for one logistic regression on 1,500 x 384).
    """
    threadpoolctl = importlib.import_module("threadpoolctl")  # ships with scikit-learn
    return cast(AbstractContextManager[object], threadpoolctl.threadpool_limits(limits=1))


def _full_columns(model: Any, scores: Matrix, n_classes: int) -> Matrix:
    """Scores with one column per class even when a fold lacked some classes."""
    classes = np.asarray(model.classes_)
    if scores.ndim == 1:  # binary problems return one margin for the positive class
        scores = np.column_stack([-scores, scores])
    if len(classes) == n_classes:
        return scores
    full = np.full((len(scores), n_classes), scores.min() - 1.0)
    full[:, classes] = scores
    return full


def _groups(vectors: Vectors, threshold: float) -> npt.NDArray[np.int64]:
    from app.routing.dataset import near_duplicate_clusters

    return np.asarray(near_duplicate_clusters(vectors, threshold), dtype=np.int64)


class _Learner:
    """One base learner, `<model>_<input>`: svm or lr on lexical, words, chars or dense
    (the embedding), or knn_dense; fitted on a fold, it gives one score column per class."""

    def __init__(
        self, name: str, config: ClassifierConfig, n_classes: int, word_columns: int
    ) -> None:
        self.name = name
        self.word_columns = word_columns
        self.config = config
        self.n_classes = n_classes
        self.model: Any = None
        self.vectors: Vectors | None = None
        self.labels: npt.NDArray[np.int64] | None = None

    def _inputs(self, lexical: Any, vectors: Vectors) -> Any:
        if self.name.endswith("_lexical"):
            return lexical
        if self.name.endswith("_words"):
            return lexical[:, : self.word_columns]
        if self.name.endswith("_chars"):
            return lexical[:, self.word_columns :]
        return vectors

    def fit(self, lexical: Any, vectors: Vectors, labels: npt.NDArray[np.int64]) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        weight = self.config.class_weight
        if self.name.startswith("knn"):
            self.vectors, self.labels = vectors, labels
            return
        if self.name.startswith("svm"):
            self.model = LinearSVC(
                C=self.config.lexical_c, class_weight=weight, random_state=self.config.seed
            )
        else:
            c = self.config.embedding_c if self.name.endswith("_dense") else self.config.lexical_c
            self.model = LogisticRegression(
                C=c, class_weight=weight, max_iter=2000, random_state=self.config.seed
            )
        self.model.fit(self._inputs(lexical, vectors), labels)

    def scores(self, lexical: Any, vectors: Vectors) -> Matrix:
        if self.name.startswith("knn"):
            return self._knn(vectors)
        inputs = self._inputs(lexical, vectors)
        margins = self.model.decision_function(inputs)
        return _full_columns(self.model, np.asarray(margins, dtype=np.float64), self.n_classes)

    def _knn(self, vectors: Vectors) -> Matrix:
        """Log of a similarity-weighted vote of the nearest training tickets."""
        if self.vectors is None or self.labels is None:
            raise RuntimeError("not fitted")
        k = min(self.config.knn_neighbours, len(self.labels))
        similarity = vectors @ self.vectors.T
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(similarity, top, axis=1)
        weights = np.exp(
            (top_scores - top_scores.max(axis=1, keepdims=True)) / self.config.knn_temperature
        )
        votes = np.zeros((len(vectors), self.n_classes))
        np.add.at(votes, (np.arange(len(vectors))[:, None], self.labels[top]), weights)
        votes /= votes.sum(axis=1, keepdims=True)
        return np.log(votes + 1e-3)


def _log_softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), np.float64)


class PooledSoftmax:
    """The meta-model: one weight per learner and one bias per team.

    The logit of team k is `sum_l w_l * score_lk + b_k`, a product of experts whose weights
    act as per-learner temperatures, fitted on log-loss (which calibrates it) with an L2
    penalty on the weights. With 4 weights and one bias per team it cannot overfit the
    out-of-fold scores the way a full multinomial regression (32 inputs x 8 teams) can; on
    cross-validation over endava it ranked confidences slightly better, but on the German
    and English support set it widened the German gap past 5 points, so it is an option
    (`meta="pooled"`), not the default (docs/ROUTING.md).
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
            log_p = _log_softmax(scores @ weights + biases)
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
        return np.exp(_log_softmax(scores @ self.weights + self.biases))


class TeamClassifier:
    """Fit on (text, vector, team); predict a probability per team."""

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        self.config = config or ClassifierConfig()
        self.teams: list[str] = []
        self._lexical = LexicalFeatures(char_ngrams=self.config.char_ngrams)
        self._learners: list[_Learner] = []
        self._meta: Any = None

    def _fitted_learners(
        self, lexical: Any, vectors: Vectors, labels: npt.NDArray[np.int64]
    ) -> list[_Learner]:
        learners = [
            _Learner(name, self.config, len(self.teams), self._lexical.word_columns)
            for name in self.config.learners
        ]
        for learner in learners:
            learner.fit(lexical, vectors, labels)
        return learners

    @staticmethod
    def _meta_features(
        learners: Sequence[_Learner], lexical: Any, vectors: Vectors
    ) -> npt.NDArray[np.float64]:
        """Tickets x teams x learners."""
        return np.stack([learner.scores(lexical, vectors) for learner in learners], axis=2)

    def _meta_inputs(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if self.config.meta == "pooled":
            return features
        # "logistic": every learner's score of every team feeds every team's logit.
        return features.transpose(0, 2, 1).reshape(len(features), -1)

    def _out_of_fold(self, lexical: Any, vectors: Vectors, labels: npt.NDArray[np.int64]) -> Matrix:
        from sklearn.model_selection import StratifiedGroupKFold

        counts = np.bincount(labels)
        folds = int(max(2, min(self.config.folds, counts.min(initial=len(labels)))))
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=self.config.seed)
        groups = _groups(vectors, self.config.duplicate_cosine)
        features = np.zeros((len(labels), len(self.teams), len(self.config.learners)))
        with warnings.catch_warnings():
            # Teams with fewer tickets than folds are fine: their columns are filled in.
            warnings.simplefilter("ignore", UserWarning)
            splits = list(splitter.split(vectors, labels, groups))
        for train, held_out in splits:
            if len(np.unique(labels[train])) < 2:
                continue
            learners = self._fitted_learners(lexical[train], vectors[train], labels[train])
            features[held_out] = self._meta_features(learners, lexical[held_out], vectors[held_out])
        return features

    def fit(self, texts: Sequence[str], vectors: Vectors, teams: Sequence[str]) -> TeamClassifier:
        with single_threaded_blas():
            return self._fit(texts, vectors, teams)

    def _fit(self, texts: Sequence[str], vectors: Vectors, teams: Sequence[str]) -> TeamClassifier:
        from sklearn.linear_model import LogisticRegression

        self.teams = sorted(set(teams))
        if len(self.teams) < 2:
            raise ValueError("A classifier needs tickets of at least two teams.")
        position = {team: i for i, team in enumerate(self.teams)}
        labels = np.array([position[t] for t in teams], dtype=np.int64)
        lexical = self._lexical.fit_transform(texts)
        meta_train = self._meta_inputs(self._out_of_fold(lexical, vectors, labels))
        if self.config.meta == "pooled":
            self._meta = PooledSoftmax(self.config.meta_l2).fit(meta_train, labels)
        elif self.config.meta == "logistic":
            self._meta = LogisticRegression(C=self.config.meta_c, max_iter=2000)
            self._meta.fit(meta_train, labels)
        else:
            raise ValueError(f"Unknown meta-model {self.config.meta!r}: pooled or logistic.")
        self._learners = self._fitted_learners(lexical, vectors, labels)
        return self

    def predict_proba(self, texts: Sequence[str], vectors: Vectors) -> Matrix:
        """One row per ticket, one column per team in `self.teams`, rows sum to 1."""
        if self._meta is None:
            raise RuntimeError("The classifier is not fitted.")
        with single_threaded_blas():
            lexical = self._lexical.transform(texts)
            features = self._meta_inputs(self._meta_features(self._learners, lexical, vectors))
            # The meta model saw every team (it is fitted on all labels), so columns line up.
            return np.asarray(self._meta.predict_proba(features), dtype=np.float64)
