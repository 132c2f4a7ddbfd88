"""Calibration: a temperature fitted on held-out odds, and rare teams capped at n / (n + 1)."""

from __future__ import annotations

import numpy as np

from routing.calibration import (
    Calibration,
    cap_rare_teams,
    fit_temperature,
    succession_caps,
    with_temperature,
)
from routing.metrics import expected_calibration_error


def test_caps_follow_the_rule_of_succession() -> None:
    assert succession_caps([1, 2, 4, 9]).tolist() == [0.5, 2 / 3, 0.8, 0.9]


def test_a_one_ticket_team_is_cut_to_half_and_the_rest_goes_by_share() -> None:
    caps = succession_caps([1, 100, 100])
    capped = cap_rare_teams(np.array([[0.9, 0.075, 0.025], [0.2, 0.5, 0.3]]), caps)
    assert np.allclose(capped[0], [0.5, 0.375, 0.125])  # 0.4 handed on 3:1
    assert np.allclose(capped[1], [0.2, 0.5, 0.3])  # under its cap: unchanged


def test_excess_handed_to_another_rare_team_is_cut_again() -> None:
    capped = cap_rare_teams(np.array([[0.9, 0.09, 0.01]]), succession_caps([1, 1, 50]))
    assert capped[0, 0] <= 0.5 + 1e-9 and capped[0, 1] <= 0.5 + 1e-9
    assert np.isclose(capped.sum(), 1.0)


def test_temperature_softens_overconfident_held_out_odds() -> None:
    # The model states 95 % for its top team, which is right 60 % of the time.
    rng = np.random.default_rng(0)
    count, teams = 2000, 4
    predicted = rng.integers(0, teams, size=count)
    right = rng.random(count) < 0.6
    labels = np.where(right, predicted, (predicted + rng.integers(1, teams, size=count)) % teams)
    probabilities = np.full((count, teams), 0.05 / (teams - 1))
    probabilities[np.arange(count), predicted] = 0.95
    temperature = fit_temperature(probabilities, labels)
    assert temperature > 1.5
    top = with_temperature(probabilities, temperature).max(axis=1)
    assert abs(float(top.mean()) - 0.6) < 0.03
    assert (with_temperature(probabilities, temperature).argmax(axis=1) == predicted).all()


def test_calibration_applies_temperature_then_caps() -> None:
    calibration = Calibration(temperature=1.0, caps=succession_caps([2, 40]))
    assert calibration.capped_teams == 1
    out = calibration.apply(np.array([[0.99, 0.01]]))
    assert np.allclose(out, [[2 / 3, 1 / 3]])


def test_the_top_label_map_never_changes_the_predicted_team() -> None:
    # A map flat at 30 % would pull the top team of a 0.45 / 0.40 ticket below the second.
    from routing.calibration import with_top_label

    knots = (np.array([0.3, 0.9]), np.array([0.3, 0.3]))
    probabilities = np.array([[0.40, 0.45, 0.1, 0.05], [0.1, 0.1, 0.1, 0.7], [0.34, 0.33, 0.33, 0]])
    mapped = with_top_label(probabilities, knots)
    assert (mapped.argmax(axis=1) == probabilities.argmax(axis=1)).all()
    assert np.allclose(mapped.sum(axis=1), 1.0)
    assert np.isclose(mapped[1, 3], 0.3)  # the map is applied where it keeps the order
    assert mapped[0, 1] > mapped[0, 0] and mapped[0, 1] - mapped[0, 0] < 1e-3  # a hair ahead


def _sampled(probabilities: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cumulative = probabilities.cumsum(axis=1)
    draws = rng.random(len(probabilities))[:, None]
    return np.asarray((draws > cumulative).sum(axis=1), dtype=np.int64)


def test_overconfident_odds_are_shrunk_towards_the_team_shares_without_reranking() -> None:
    # The truth is half the model and half the team shares (0.6 / 0.3 / 0.1): the model
    # states too much, and in a way a temperature cannot undo.
    from routing.calibration import fit_prior_and_temperature, with_prior

    rng = np.random.default_rng(0)
    count, prior = 3000, np.array([0.6, 0.3, 0.1])
    model = rng.dirichlet([0.3, 0.3, 0.3], size=count)
    labels = _sampled(with_prior(model, prior, 0.5), seed=1)
    weight, _ = fit_prior_and_temperature(model, labels, prior)
    assert 0.35 <= weight <= 0.5
    calibration = Calibration.fit(model, labels, np.bincount(labels, minlength=3).tolist())
    assert calibration.prior_weight == weight
    stated = calibration.apply(model)
    assert (stated.argmax(axis=1) == model.argmax(axis=1)).all()  # the ranking stays
    right = (stated.argmax(axis=1) == labels).tolist()
    assert expected_calibration_error(stated.max(axis=1).tolist(), right) < 0.04
    assert expected_calibration_error(model.max(axis=1).tolist(), right) > 0.15


def test_honest_odds_are_neither_shrunk_nor_mapped() -> None:
    kept = 0
    for seed in range(2, 8):  # held-out folds can favour the map by chance, rarely
        rng = np.random.default_rng(seed)
        model = rng.dirichlet([0.5, 0.5, 0.5, 0.5], size=2000)
        labels = _sampled(model, seed=seed + 1)
        calibration = Calibration.fit(model, labels, np.bincount(labels, minlength=4).tolist())
        assert calibration.prior_weight == 0.0
        assert calibration.top_label_brier is not None
        kept += calibration.top_label is not None
    assert kept <= 1


def test_a_bent_reliability_curve_keeps_the_isotonic_map() -> None:
    # Stated 95 % is right 60 %, stated 60 % right 60 %: no temperature or shrink fixes both.
    from routing.calibration import top_label_check

    rng = np.random.default_rng(4)
    count, teams = 2000, 4
    predicted = rng.integers(0, teams, size=count)
    top = np.where(rng.random(count) < 0.5, 0.95, 0.6)
    right = rng.random(count) < 0.6
    labels = np.where(right, predicted, (predicted + rng.integers(1, teams, size=count)) % teams)
    probabilities = np.repeat(((1.0 - top) / (teams - 1))[:, None], teams, axis=1)
    probabilities[np.arange(count), predicted] = top
    without, with_map = top_label_check(probabilities, labels)
    assert with_map < without
    assert Calibration.fit(probabilities, labels, [count] * teams).top_label is not None
