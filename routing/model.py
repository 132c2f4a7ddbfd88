"""The trained team classifier: lexical and embedding learners stacked into calibrated odds.

Base learners see different evidence: linear SVMs on TF-IDF of words and of character
n-grams catch product names, error codes, jargon and German compounds; a logistic
regression and a nearest-neighbour vote on the sentence embedding catch paraphrases and
the other language; the same two on a second embedding model (when the router has one)
add a second reading of the meaning, which measured better than either model alone
(docs/ROUTING.md); that model reads English only, so its learners get no say on tickets
that read as German (routing.language). A multinomial logistic regression fitted on their
out-of-fold scores learns how far to trust each per team and turns the scores into
probabilities; fitting it on log-loss is what calibrates them.
Out-of-fold folds keep near-duplicate tickets together, so paraphrases in the training set
cannot make a base learner look better than it is on new tickets.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from index.embedder import Vectors
from routing.calibration import Calibration
from routing.class_weights import DEFAULT_ALPHAS, checked_alphas, team_weights
from routing.features import LexicalFeatures
from routing.language import german_rows
from routing.memory import top_k
from routing.meta import PooledSoftmax, meta_inputs, new_meta
from routing.metrics import reliability_table
from routing.selection import Candidate, candidates, choose_model, second_verdict, with_alphas

Matrix = npt.NDArray[np.float64]
__all__ = [
    "ClassifierConfig",
    "PooledSoftmax",
    "TeamClassifier",
    "calibration_report",
    "single_threaded_blas",
]


@dataclass(frozen=True)
class ClassifierConfig:
    """Knobs of the classifier; defaults chosen by measurement (docs/ROUTING.md)."""

    # `*_second` learners run only when the classifier is given second-model vectors.
    learners: tuple[str, ...] = (
        "svm_words",
        "svm_chars",
        "lr_dense",
        "knn_dense",
        "lr_second",
        "knn_second",
    )
    lexical_c: float = 0.5
    embedding_c: float = 10.0
    knn_neighbours: int = 10
    knn_temperature: float = 0.02
    char_ngrams: bool = True
    # Class weights n_c^-alpha of the learners (routing.class_weights): each alpha is a
    # candidate of the choice by cross-validated log-loss (only the last without it).
    class_weight_alphas: tuple[float, ...] = DEFAULT_ALPHAS
    folds: int = 5
    meta: str = "logistic"
    meta_l2: float = 1e-3
    meta_c: float = 1.0
    duplicate_cosine: float = 0.97
    # Choose the stack (which learners, which meta-model) by cross-validated log-loss on
    # the training tickets (routing.selection); off: all learners under `meta`.
    choose_by_cv: bool = True
    # Keep the `*_second` learners only when they lower that log-loss (they help on
    # endava, not on the support set); off: only candidates with them.
    second_by_cv: bool = True
    # The second model reads English only (all-MiniLM-L6-v2): its learners' scores are
    # dropped for tickets that read as German (routing.language). False for a
    # multilingual second model.
    second_english_only: bool = True
    choice_folds: int = 3  # enough: the two log-losses differ by 0.02-0.07, folds by 0.003
    seed: int = 0


def single_threaded_blas() -> AbstractContextManager[object]:
    """Limit numpy/scipy BLAS to one thread while fitting and predicting.

    The fits are many small matrix products; on a small machine shared with the embedding
    model and request threads, BLAS threads spin against each other: measured 20x slower
    (9.3 s against 0.4 s for one logistic regression on 1,500 x 384).
    """
    return cast(AbstractContextManager[object], _blas_controller().limit(limits=1))


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, made once: finding them reads
    /proc/self/maps, which `threadpool_limits` does on every call (4 ms of each /suggest).
    Made on first use, by which time scikit-learn has loaded numpy's and scipy's BLAS."""
    threadpoolctl = importlib.import_module("threadpoolctl")  # ships with scikit-learn
    return threadpoolctl.ThreadpoolController()


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


def _fold_count(groups: npt.NDArray[np.int64], wanted: int) -> int:
    """`wanted` folds, fewer only when there are fewer near-duplicate groups, never below 2.

    Not fewer for a small team: on a long tail the smallest team has one ticket, and
    folding by it gave 2 folds, learners fitted on half the tickets, and a meta-model that
    learned to trust them less than they deserve on the full set. A team smaller than the
    folds is held out in some folds only; its columns are filled in where it is missing.
    """
    return int(max(2, min(wanted, len(np.unique(groups)))))


def _groups(vectors: Vectors, threshold: float) -> npt.NDArray[np.int64]:
    from routing.dataset import near_duplicate_clusters

    return np.asarray(near_duplicate_clusters(vectors, threshold), dtype=np.int64)


@dataclass(frozen=True)
class _Inputs:
    """What the learners read for a set of tickets: TF-IDF rows and the embeddings."""

    lexical: Any
    dense: Vectors
    second: Vectors | None = None

    def rows(self, index: npt.NDArray[np.int64]) -> _Inputs:
        second = self.second[index] if self.second is not None else None
        return _Inputs(self.lexical[index], self.dense[index], second)


class _Learner:
    """One base learner, `<model>_<input>`: svm or lr on lexical, words, chars, dense (the
    embedding) or second (the second model's embedding), or knn on dense or second; fitted
    on a fold, it gives one score column per class."""

    def __init__(
        self,
        name: str,
        config: ClassifierConfig,
        n_classes: int,
        word_columns: int,
        alpha: float = 1.0,
    ) -> None:
        self.name = name
        self.alpha = alpha  # class weights n_c^-alpha (routing.class_weights)
        self.word_columns = word_columns
        self.config = config
        self.n_classes = n_classes
        self.model: Any = None
        self.vectors: Vectors | None = None
        self.labels: npt.NDArray[np.int64] | None = None

    @property
    def embedded(self) -> bool:
        return self.name.endswith(("_dense", "_second"))

    def _inputs(self, inputs: _Inputs) -> Any:
        if self.name.endswith("_lexical"):
            return inputs.lexical
        if self.name.endswith("_words"):
            return inputs.lexical[:, : self.word_columns]
        if self.name.endswith("_chars"):
            return inputs.lexical[:, self.word_columns :]
        if self.name.endswith("_second"):
            if inputs.second is None:
                raise ValueError(f"Learner {self.name} needs second-model vectors.")
            return inputs.second
        return inputs.dense

    def fit(self, inputs: _Inputs, labels: npt.NDArray[np.int64]) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        if self.name.startswith("knn"):
            self.vectors, self.labels = self._inputs(inputs), labels
            return
        weight = team_weights(labels, self.alpha)
        if self.name.startswith("svm"):
            self.model = LinearSVC(
                C=self.config.lexical_c, class_weight=weight, random_state=self.config.seed
            )
        else:
            c = self.config.embedding_c if self.embedded else self.config.lexical_c
            self.model = LogisticRegression(
                C=c, class_weight=weight, max_iter=2000, random_state=self.config.seed
            )
        self.model.fit(self._inputs(inputs), labels)

    def scores(self, inputs: _Inputs) -> Matrix:
        if self.name.startswith("knn"):
            return self._knn(self._inputs(inputs))
        margins = self.model.decision_function(self._inputs(inputs))
        return _full_columns(self.model, np.asarray(margins, dtype=np.float64), self.n_classes)

    def _knn(self, vectors: Vectors) -> Matrix:
        """Log of a similarity-weighted vote of the nearest training tickets."""
        if self.vectors is None or self.labels is None:
            raise RuntimeError("not fitted")
        k = min(self.config.knn_neighbours, len(self.labels))
        similarity = vectors @ self.vectors.T
        top = top_k(similarity, k)
        top_scores = np.take_along_axis(similarity, top, axis=1)
        weights = np.exp(
            (top_scores - top_scores.max(axis=1, keepdims=True)) / self.config.knn_temperature
        )
        votes = np.zeros((len(vectors), self.n_classes))
        np.add.at(votes, (np.arange(len(vectors))[:, None], self.labels[top]), weights)
        votes /= votes.sum(axis=1, keepdims=True)
        return np.log(votes + 1e-3)


class TeamClassifier:
    """Fit on (text, vector, team), optionally with a second model's vectors; predict a
    probability per team.

    Fitting chooses among stacks of its learners by cross-validated log-loss
    (`routing.selection`) and calibrates the winner on its held-out predictions
    (`routing.calibration`); `model_choice` and `reliability` say what came of it.
    """

    # Class-level defaults: classifiers pickled before the choice and the calibration
    # existed load with these (their stack, their meta-model, no recalibration).
    model_choice: dict[str, Any] | None = None
    reliability: list[dict[str, Any]] | None = None
    calibration: Calibration | None = None
    meta_kind: str | None = None

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        self.config = config or ClassifierConfig()
        self.teams: list[str] = []
        self.learners: tuple[str, ...] = ()
        # Whether the second model's learners were kept, and the log-losses that decided.
        self.learner_choice: dict[str, float | bool] = {}
        self._lexical = LexicalFeatures(char_ngrams=self.config.char_ngrams)
        self._learners: list[_Learner] = []
        self._meta: Any = None

    @property
    def uses_second(self) -> bool:
        """Whether predictions need the second model's vectors (it was fitted with them)."""
        return any(name.endswith("_second") for name in self.learners)

    def _fitted_learners(
        self, inputs: _Inputs, labels: npt.NDArray[np.int64], alpha: float
    ) -> list[_Learner]:
        learners = [
            _Learner(name, self.config, len(self.teams), self._lexical.word_columns, alpha)
            for name in self.learners
        ]
        for learner in learners:
            learner.fit(inputs, labels)
        return learners

    def _meta_features(
        self, learners: Sequence[_Learner], inputs: _Inputs, texts: Sequence[str]
    ) -> npt.NDArray[np.float64]:
        """Tickets x teams x learners; the second model's scores are zero (no say: the same
        for every team) on tickets it cannot read."""
        features = np.stack([learner.scores(inputs) for learner in learners], axis=2)
        return self._second_muted(features, [learner.name for learner in learners], texts)

    def _second_muted(
        self, features: Matrix, learners: Sequence[str], texts: Sequence[str]
    ) -> Matrix:
        # getattr: classifiers pickled before this knob existed never muted it.
        if not getattr(self.config, "second_english_only", False):
            return features
        columns = np.array([name.endswith("_second") for name in learners], dtype=bool)
        if columns.any():
            rows = german_rows(texts)
            features[np.ix_(rows, np.ones(features.shape[1], dtype=bool), columns)] = 0.0
        return features

    def _out_of_fold(
        self,
        inputs: _Inputs,
        labels: npt.NDArray[np.int64],
        groups: npt.NDArray[np.int64],
        texts: Sequence[str],
        alpha: float,
    ) -> Matrix:
        from sklearn.model_selection import StratifiedGroupKFold

        folds = _fold_count(groups, self.config.folds)
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=self.config.seed)
        features = np.zeros((len(labels), len(self.teams), len(self.learners)))
        with warnings.catch_warnings():
            # Teams with fewer tickets than folds are fine: their columns are filled in.
            warnings.simplefilter("ignore", UserWarning)
            splits = list(splitter.split(inputs.dense, labels, groups))
        for train, held_out in splits:
            if len(np.unique(labels[train])) < 2:
                continue
            learners = self._fitted_learners(inputs.rows(train), labels[train], alpha)
            features[held_out] = self._meta_features(
                learners, inputs.rows(held_out), [texts[i] for i in held_out]
            )
        return features

    def fit(
        self,
        texts: Sequence[str],
        vectors: Vectors,
        teams: Sequence[str],
        *,
        second: Vectors | None = None,
    ) -> TeamClassifier:
        """Without `second` vectors the `*_second` learners are left out."""
        with single_threaded_blas():
            return self._fit(texts, vectors, teams, second)

    def _candidates(self, has_second: bool, tickets: int) -> list[Candidate]:
        alphas = checked_alphas(self.config.class_weight_alphas)
        if not self.config.choose_by_cv:
            only = candidates(self.learners, second_required=False, only=self.config.meta)
            return with_alphas(only, alphas[-1:])
        found = candidates(
            self.learners,
            second_required=has_second and not self.config.second_by_cv,
            teams=len(self.teams),
            tickets=tickets,
        )
        return with_alphas(found, alphas)

    def _fit(
        self, texts: Sequence[str], vectors: Vectors, teams: Sequence[str], second: Vectors | None
    ) -> TeamClassifier:
        self.teams = sorted(set(teams))
        if len(self.teams) < 2:
            raise ValueError("A classifier needs tickets of at least two teams.")
        if self.config.meta not in ("pooled", "per_team", "logistic"):
            raise ValueError(
                f"Unknown meta-model {self.config.meta!r}: pooled, per_team or logistic."
            )
        if second is not None and len(second) != len(vectors):
            raise ValueError(f"{len(second)} second-model vectors for {len(vectors)} tickets.")
        self.learners = tuple(
            name
            for name in self.config.learners
            if second is not None or not name.endswith("_second")
        )
        position = {team: i for i, team in enumerate(self.teams)}
        labels = np.array([position[t] for t in teams], dtype=np.int64)
        inputs = _Inputs(self._lexical.fit_transform(texts), vectors, second)
        groups = _groups(inputs.dense, self.config.duplicate_cosine)
        found = self._candidates(second is not None, len(labels))
        features = {
            alpha: self._out_of_fold(inputs, labels, groups, texts, alpha)
            for alpha in sorted({candidate.alpha for candidate in found})
        }
        choice = choose_model(
            features,
            labels,
            groups,
            self.learners,
            found,
            folds=self.config.choice_folds,
            seed=self.config.seed,
            l2=self.config.meta_l2,
            c=self.config.meta_c,
        )
        self.model_choice = choice.report()
        if second is not None:
            self.learner_choice = second_verdict(choice)
        keep = [self.learners.index(name) for name in choice.chosen.learners]
        chosen = features[choice.chosen.alpha][:, :, keep]
        self.learners = choice.chosen.learners
        if not self.uses_second:
            inputs = _Inputs(inputs.lexical, inputs.dense)
        self.meta_kind = choice.chosen.meta
        self._meta = new_meta(self.meta_kind, l2=self.config.meta_l2, c=self.config.meta_c).fit(
            meta_inputs(self.meta_kind, chosen), labels
        )
        self.calibration = Calibration.fit(
            choice.held_out, labels, np.bincount(labels, minlength=len(self.teams)).tolist()
        )
        calibrated = self.calibration.apply(choice.held_out)
        best = calibrated.argmax(axis=1)
        self.reliability = reliability_table(
            calibrated.max(axis=1).tolist(), (best == labels).tolist()
        )
        self._learners = self._fitted_learners(inputs, labels, choice.chosen.alpha)
        return self

    def predict_proba(
        self, texts: Sequence[str], vectors: Vectors, *, second: Vectors | None = None
    ) -> Matrix:
        """One row per ticket, one column per team in `self.teams`, rows sum to 1.

        `second` is required when the classifier was fitted with second-model vectors.
        """
        if self._meta is None:
            raise RuntimeError("The classifier is not fitted.")
        if self.uses_second and second is None:
            raise ValueError("This classifier was fitted with second-model vectors; pass them.")
        with single_threaded_blas():
            inputs = _Inputs(self._lexical.transform(texts), vectors, second)
            kind = self.meta_kind or self.config.meta
            features = meta_inputs(kind, self._meta_features(self._learners, inputs, texts))
            # The meta model saw every team (it is fitted on all labels), so columns line up.
            probabilities = np.asarray(self._meta.predict_proba(features), dtype=np.float64)
            if self.calibration is not None:
                probabilities = self.calibration.apply(probabilities)
            return probabilities


def calibration_report(classifier: TeamClassifier) -> dict[str, Any]:
    """How the classifier's confidence was calibrated, and how true it held on the training
    tickets' held-out predictions (the reliability table)."""
    calibration = classifier.calibration
    if calibration is None:
        return {}
    return {
        "temperature": calibration.temperature,
        # getattr: calibrations pickled before the shrink and the isotonic check.
        "prior_weight": getattr(calibration, "prior_weight", 0.0),
        "isotonic": calibration.top_label is not None,
        "top_label_brier": getattr(calibration, "top_label_brier", None),
        "rare_teams_capped": calibration.capped_teams,
        "reliability_held_out": classifier.reliability or [],
    }
