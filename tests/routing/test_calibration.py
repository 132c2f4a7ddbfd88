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
