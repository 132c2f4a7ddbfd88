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
    assert names == {"stacked_pooled+second", "stacked_per_team+second", "stacked+second"}
    free = {c.name for c in candidates(learners, second_required=False)}
    assert {"vote", "lexical", "lexical+vote", "stacked", "stacked+second"} <= free
    only = candidates(learners, second_required=False, only="logistic")
    assert [(c.name, c.meta, c.learners) for c in only] == [("stacked", "logistic", learners)]


def _choose_across(by_alpha: dict[float, np.ndarray], labels: np.ndarray) -> dict[str, object]:
    from routing.selection import with_alphas

    found = with_alphas(candidates(LEARNERS, second_required=False), sorted(by_alpha))
    choice = choose_model(
        by_alpha, labels, np.arange(len(labels)), LEARNERS, found, folds=3, seed=0, l2=1e-3, c=1.0
    )
    return choice.report()


def test_another_class_weight_alpha_wins_when_clearly_better() -> None:
    weak, labels = _scores("svm_words")
    strong = weak.copy()
    strong[:, :, LEARNERS.index("svm_words")] += 2.0 * np.eye(4)[labels]  # a clearer signal
    report = _choose_across({0.0: strong, 1.0: weak}, labels)
    assert report["class_weight_alpha"] == 0.0
    assert str(report["chosen"]).endswith("@alpha=0")
    by_alpha = report["log_loss_by_alpha"]
    assert isinstance(by_alpha, dict) and by_alpha["0"] < by_alpha["1"]


def test_balanced_weights_stay_when_another_alpha_wins_by_noise() -> None:
    features, labels = _scores("svm_words")
    rng = np.random.default_rng(1)
    jittered = features + rng.normal(0, 0.01, size=features.shape)  # the same evidence
    report = _choose_across({0.0: jittered, 1.0: features}, labels)
    assert report["class_weight_alpha"] == 1.0
    assert "@alpha" not in str(report["chosen"])


def test_second_verdict_reads_the_learners_not_the_names() -> None:
    from routing.selection import with_alphas

    learners = (*LEARNERS, "lr_second")
    features, labels = _scores("lr_dense")
    features = np.concatenate([features, features[:, :, 2:3]], axis=2)
    found = with_alphas(candidates(learners, second_required=False), [0.5, 1.0])
    choice = choose_model(
        {0.5: features, 1.0: features},
        labels,
        np.arange(len(labels)),
        learners,
        found,
        folds=3,
        seed=0,
        l2=1e-3,
        c=1.0,
    )
    verdict = second_verdict(choice)
    assert set(verdict) == {"log_loss_with_second", "log_loss_without_second", "second_kept"}
    assert verdict["log_loss_with_second"] == min(
        loss for name, loss in choice.log_loss.items() if "+second" in name
    )


def _one_small_team_with_words_of_its_own(count: int = 900) -> tuple[np.ndarray, np.ndarray]:
    """Two big teams no learner tells apart (the word SVM's scores of them are loud noise)
    and a small one the word SVM reads well: the support long tails' "Billing and Payments"
    beside "Technical Support" and "Product Support"."""
    rng = np.random.default_rng(0)
    labels = rng.choice(3, size=count, p=[0.45, 0.45, 0.10])
    features = rng.normal(size=(count, 3, len(LEARNERS)))
    words = LEARNERS.index("svm_words")
    features[:, :2, words] *= 3.0
    features[:, 2, words] += 3.0 * (labels == 2)
    return features, labels


def test_a_learner_trusted_on_the_one_team_it_reads_wins_the_choice() -> None:
    features, labels = _one_small_team_with_words_of_its_own()
    # Without the logistic meta-model, as on a long tail (not offered past its parameters).
    found = [
        candidate
        for candidate in candidates(LEARNERS, second_required=False, teams=3, tickets=len(labels))
        if candidate.meta != "logistic"
    ]
    choice = choose_model(
        features, labels, np.arange(len(labels)), LEARNERS, found, folds=3, seed=0, l2=1e-3, c=1.0
    )
    assert choice.chosen.name == "stacked_per_team"
    assert choice.log_loss["stacked_pooled"] > choice.log_loss["stacked_per_team"] + 0.02
    small = labels == 2
    pooled = next(c for c in found if c.name == "stacked_pooled")
    from routing.meta import cross_validated

    held_out = cross_validated(
        pooled.meta, features, labels, np.arange(len(labels)), folds=3, seed=0, l2=1e-3, c=1.0
    )
    found_small = (choice.held_out.argmax(axis=1)[small] == 2).mean()
    assert found_small > (held_out.argmax(axis=1)[small] == 2).mean() + 0.2
