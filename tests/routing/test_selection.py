"""The classifier's choice of model: candidates scored by held-out log-loss on grouped folds."""

from __future__ import annotations

import numpy as np
import pytest

from routing.selection import candidates, choose_model, second_verdict

LEARNERS = ("svm_words", "svm_chars", "lr_dense", "knn_dense")


def _scores(informative: str, count: int = 600, teams: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Tickets x teams x learners where only `informative` knows the team."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, teams, size=count)
    features = rng.normal(size=(count, teams, len(LEARNERS)))
    column = LEARNERS.index(informative)
    features[:, :, column] += 3.0 * np.eye(teams)[labels]
    return features, labels


@pytest.mark.parametrize(
    ("informative", "absent"), [("knn_dense", "lexical"), ("svm_words", "vote")]
)
def test_the_learners_that_know_the_team_are_chosen(informative: str, absent: str) -> None:
    features, labels = _scores(informative)
    found = candidates(LEARNERS, second_required=False)
    choice = choose_model(
        features, labels, np.arange(len(labels)), LEARNERS, found, folds=3, seed=0, l2=1e-3, c=1.0
    )
    assert informative in choice.chosen.learners
    assert choice.log_loss[absent] > choice.log_loss[choice.chosen.name] + 0.5
    report = choice.report()
    assert report["chosen"] == choice.chosen.name
    assert report["reason"].startswith("lowest cross-validated log-loss")
    assert choice.held_out.shape == (len(labels), 4)
    assert second_verdict(choice) == {}  # no second model among the candidates


def test_candidates_with_a_forced_second_model_all_use_it() -> None:
    learners = (*LEARNERS, "lr_second", "knn_second")
    names = {c.name for c in candidates(learners, second_required=True)}
    assert names == {"stacked_pooled+second", "stacked+second"}
    free = {c.name for c in candidates(learners, second_required=False)}
    assert {"vote", "lexical", "lexical+vote", "stacked", "stacked+second"} <= free
    only = candidates(learners, second_required=False, only="logistic")
    assert [(c.name, c.meta, c.learners) for c in only] == [("stacked", "logistic", learners)]
