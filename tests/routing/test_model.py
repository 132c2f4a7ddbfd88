"""The stacked classifier on synthetic tickets: learns, ranks, and states honest odds."""

from __future__ import annotations

import numpy as np
import pytest

from routing.features import TicketText, embed_tickets
from routing.metrics import expected_calibration_error
from routing.model import ClassifierConfig, PooledSoftmax, TeamClassifier
from tests.fakes import HashingEmbedder
from tests.routing.helpers import synthetic_tickets


def _fit_and_predict(
    train: list[dict[str, str]], test: list[dict[str, str]], config: ClassifierConfig | None = None
) -> tuple[TeamClassifier, np.ndarray]:
    embedder = HashingEmbedder(dim=128)
    texts = [TicketText(t["title"], t["description"]) for t in train]
    test_texts = [TicketText(t["title"], t["description"]) for t in test]
    classifier = TeamClassifier(config).fit(
        [t.lexical for t in texts], embed_tickets(embedder, texts), [t["team"] for t in train]
    )
    probabilities = classifier.predict_proba(
        [t.lexical for t in test_texts], embed_tickets(embedder, test_texts)
    )
    return classifier, probabilities


def test_learns_teams_from_words_and_vectors() -> None:
    classifier, probabilities = _fit_and_predict(
        synthetic_tickets(150, seed=1), synthetic_tickets(60, seed=2)
    )
    truth = [t["team"] for t in synthetic_tickets(60, seed=2)]
    predicted = [classifier.teams[i] for i in probabilities.argmax(axis=1)]
    assert classifier.teams == ["messaging", "network", "workplace"]
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) >= 0.9


def test_confidence_is_calibrated_on_noisy_labels() -> None:
    # A quarter of the labels are random: a calibrated model must not claim ~100%.
    test = synthetic_tickets(300, seed=4, noise=0.25)
    classifier, probabilities = _fit_and_predict(synthetic_tickets(600, seed=3, noise=0.25), test)
    best = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = [classifier.teams[b] == t["team"] for b, t in zip(best, test, strict=True)]
    assert expected_calibration_error(confidence.tolist(), correct) < 0.08
    assert 0.7 < float(np.mean(confidence)) < 0.95


def test_team_with_a_single_ticket_still_gets_a_column() -> None:
    train = synthetic_tickets(40, seed=5, teams=("network", "workplace"))
    train.append({**synthetic_tickets(3, seed=6, teams=("messaging",))[0]})
    classifier, probabilities = _fit_and_predict(train, synthetic_tickets(6, seed=7))
    assert classifier.teams == ["messaging", "network", "workplace"]
    assert probabilities.shape == (6, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_pooled_meta_model_trusts_the_informative_learner() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=600)
    informative = np.eye(3)[labels] * 2.0 + rng.normal(0, 0.5, size=(600, 3))
    noise = rng.normal(0, 1.0, size=(600, 3))
    scores = np.stack([informative, noise], axis=2)
    meta = PooledSoftmax(l2=1e-3).fit(scores, labels)
    assert meta.weights[0] > 1.0 > abs(meta.weights[1]) * 5
    probabilities = meta.predict_proba(scores)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.mean(probabilities.argmax(axis=1) == labels) > 0.9


def test_pooled_meta_model_is_available_as_an_option() -> None:
    config = ClassifierConfig(meta="pooled")
    _, probabilities = _fit_and_predict(
        synthetic_tickets(90, seed=8), synthetic_tickets(12, seed=9), config
    )
    assert probabilities.shape == (12, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="Unknown meta-model"):
        _fit_and_predict(synthetic_tickets(30, seed=8), [], ClassifierConfig(meta="forest"))


def _clustered(labels: np.ndarray, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors near one centre per label."""
    centres = rng.normal(size=(int(labels.max()) + 1, dim))
    vectors = centres[labels] + rng.normal(scale=0.8, size=(len(labels), dim))
    return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), np.float32)


def test_second_model_learners_use_the_second_vectors() -> None:
    # Words and the index model's vectors carry nothing here; only the second model does.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=400)
    teams = [("network", "messaging", "workplace")[i] for i in labels]
    texts = ["same words for every ticket"] * len(labels)
    noise = rng.normal(size=(len(labels), 16))
    dense = (noise / np.linalg.norm(noise, axis=1, keepdims=True)).astype(np.float32)
    second = _clustered(labels, 24, rng)
    train, test = slice(0, 300), slice(300, None)
    truth = np.array(teams[test])

    plain = TeamClassifier().fit(texts[train], dense[train], teams[train])
    assert not plain.uses_second
    assert not any(name.endswith("_second") for name in plain.learners)
    plain_best = plain.predict_proba(texts[test], dense[test]).argmax(axis=1)

    both = TeamClassifier().fit(texts[train], dense[train], teams[train], second=second[train])
    assert both.uses_second
    choice = both.learner_choice
    assert choice["second_kept"] is True
    assert choice["log_loss_with_second"] < choice["log_loss_without_second"]
    assert {"lr_second", "knn_second"} <= set(both.learners)
    probabilities = both.predict_proba(texts[test], dense[test], second=second[test])
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    accuracy = np.mean(np.array(both.teams)[probabilities.argmax(axis=1)] == truth)
    plain_accuracy = np.mean(np.array(plain.teams)[plain_best] == truth)
    assert accuracy > 0.9
    assert plain_accuracy < 0.6

    with pytest.raises(ValueError, match="second-model vectors"):
        both.predict_proba(texts[test], dense[test])
    with pytest.raises(ValueError, match="second-model vectors for"):
        TeamClassifier().fit(texts[train], dense[train], teams[train], second=second[:10])


def test_second_model_learners_that_add_nothing_are_dropped() -> None:
    # The words and the index model's vectors know the team; the second model is noise.
    train, test = synthetic_tickets(200, seed=11), synthetic_tickets(40, seed=12)
    embedder = HashingEmbedder(dim=128)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(len(train), 24))
    second = np.asarray(noise / np.linalg.norm(noise, axis=1, keepdims=True), np.float32)
    texts = [TicketText(t["title"], t["description"]) for t in train]
    test_texts = [TicketText(t["title"], t["description"]) for t in test]
    classifier = TeamClassifier().fit(
        [t.lexical for t in texts],
        embed_tickets(embedder, texts),
        [t["team"] for t in train],
        second=second,
    )
    choice = classifier.learner_choice
    assert choice["second_kept"] is False
    assert choice["log_loss_with_second"] >= choice["log_loss_without_second"]
    assert not classifier.uses_second
    assert not any(name.endswith("_second") for name in classifier.learners)
    probabilities = classifier.predict_proba(  # no second vectors needed any more
        [t.lexical for t in test_texts], embed_tickets(embedder, test_texts)
    )
    predicted = [classifier.teams[i] for i in probabilities.argmax(axis=1)]
    assert np.mean([p == t["team"] for p, t in zip(predicted, test, strict=True)]) >= 0.9


def test_a_classifier_pickled_before_the_choice_and_calibration_still_predicts() -> None:
    import pickle

    config = ClassifierConfig(choose_by_cv=False)  # the old behaviour: all learners, logistic
    classifier, calibrated = _fit_and_predict(
        synthetic_tickets(90, seed=13), synthetic_tickets(12, seed=14), config
    )
    assert classifier.model_choice is not None
    assert classifier.model_choice["chosen"] == "stacked"
    old = pickle.loads(pickle.dumps(classifier))  # noqa: S301 - our own object
    for attribute in ("model_choice", "reliability", "calibration", "meta_kind"):
        del old.__dict__[attribute]  # what an earlier version's pickle lacks
    embedder = HashingEmbedder(dim=128)
    texts = [TicketText(t["title"], t["description"]) for t in synthetic_tickets(12, seed=14)]
    raw = old.predict_proba([t.lexical for t in texts], embed_tickets(embedder, texts))
    assert old.calibration is None and old.model_choice is None
    assert np.allclose(raw.sum(axis=1), 1.0)
    assert (raw.argmax(axis=1) == calibrated.argmax(axis=1)).all()


def test_the_english_only_second_model_has_no_say_on_german_tickets() -> None:
    # Only the second model knows the team; half the tickets read as German.
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, size=400)
    teams = [("network", "messaging", "workplace")[i] for i in labels]
    english, german = "the printer is not working for us", "der Drucker ist nicht bei uns"
    texts = [english if i % 2 else german for i in range(len(labels))]
    noise = rng.normal(size=(len(labels), 16))
    dense = (noise / np.linalg.norm(noise, axis=1, keepdims=True)).astype(np.float32)
    second = _clustered(labels, 24, rng)
    train, test = slice(0, 300), slice(300, None)
    classifier = TeamClassifier().fit(
        texts[train], dense[train], teams[train], second=second[train]
    )
    assert classifier.uses_second
    probabilities = classifier.predict_proba(texts[test], dense[test], second=second[test])
    shuffled = classifier.predict_proba(
        texts[test], dense[test], second=rng.permutation(second[test])
    )
    is_german = np.array([text == german for text in texts[test]])
    assert np.allclose(probabilities[is_german], shuffled[is_german])  # not read at all
    assert not np.allclose(probabilities[~is_german], shuffled[~is_german])
    right = np.array(classifier.teams)[probabilities.argmax(axis=1)] == np.array(teams[test])
    assert right[~is_german].mean() > 0.9
    # Told the second model is multilingual, the classifier reads it on every ticket.
    everywhere = TeamClassifier(ClassifierConfig(second_english_only=False)).fit(
        texts[train], dense[train], teams[train], second=second[train]
    )
    read = everywhere.predict_proba(texts[test], dense[test], second=second[test])
    right = np.array(everywhere.teams)[read.argmax(axis=1)] == np.array(teams[test])
    assert right[is_german].mean() > 0.9


def test_teams_with_one_or_two_german_tickets_train_and_predict_with_the_second_model() -> None:
    rng = np.random.default_rng(3)
    labels = np.concatenate([rng.integers(0, 2, size=120), [2, 3, 3]])  # 1 and 2 tickets
    teams = [("network", "workplace", "payroll", "legal")[i] for i in labels]
    texts = [
        "der Drucker ist nicht bei uns" if i % 3 == 0 else "the printer is not working"
        for i in range(len(labels))
    ]
    texts[-3:] = ["die Abrechnung ist nicht da", "der Vertrag ist nicht bei uns", "ich und wir"]
    noise = rng.normal(size=(len(labels), 16))
    dense = (noise / np.linalg.norm(noise, axis=1, keepdims=True)).astype(np.float32)
    second = _clustered(labels, 24, rng)
    classifier = TeamClassifier().fit(texts, dense, teams, second=second)
    probabilities = classifier.predict_proba(texts[-3:], dense[-3:], second=second[-3:])
    assert classifier.teams == ["legal", "network", "payroll", "workplace"]
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[:, classifier.teams.index("payroll")].max() <= 0.5 + 1e-9
    assert probabilities[:, classifier.teams.index("legal")].max() <= 2 / 3 + 1e-9


def test_fits_and_predictions_hold_blas_to_one_thread_and_give_the_threads_back() -> None:
    from threadpoolctl import threadpool_info

    from routing.model import single_threaded_blas

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    before = blas_threads()
    for _ in range(2):  # the second time from the controller kept by the first
        with single_threaded_blas():
            assert blas_threads() == {1}
        assert blas_threads() == before


def test_the_class_weight_strength_is_chosen_and_reported() -> None:
    from routing.model import calibration_report

    config = ClassifierConfig(class_weight_alphas=(0.0, 1.0))
    classifier, probabilities = _fit_and_predict(
        synthetic_tickets(90, seed=15), synthetic_tickets(12, seed=16), config
    )
    choice = classifier.model_choice
    assert choice is not None
    assert choice["class_weight_alpha"] in (0.0, 1.0)
    assert set(choice["log_loss_by_alpha"]) == {"0", "1"}
    assert any(name.endswith("@alpha=0") for name in choice["log_loss"])
    assert "best log-loss per alpha: 0 " in choice["reason"]
    assert all(learner.alpha == choice["class_weight_alpha"] for learner in classifier._learners)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    report = calibration_report(classifier)
    assert 0.0 <= report["prior_weight"] <= 0.5
    assert report["isotonic"] is False  # 90 held-out tickets: too few for the map


def test_balanced_weights_alone_are_the_default() -> None:
    classifier, _ = _fit_and_predict(synthetic_tickets(60, seed=17), synthetic_tickets(3, seed=18))
    assert classifier.model_choice is not None
    assert classifier.model_choice["class_weight_alpha"] == 1.0
    assert "@alpha" not in classifier.model_choice["chosen"]
