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
