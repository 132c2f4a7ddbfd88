"""Class weights n_c^-alpha: balanced at 1, none at 0, and the grid's checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from routing.class_weights import alpha_name, checked_alphas, team_weights


def test_alpha_one_is_scikit_learns_balanced_weights() -> None:
    labels = np.array([0] * 48 + [1] * 30 + [2] * 2, dtype=np.int64)
    weights = team_weights(labels, 1.0)
    assert weights is not None
    balanced = compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=labels)
    assert np.allclose([weights[0], weights[1], weights[2]], balanced)


def test_weaker_alphas_weight_rare_teams_up_less_and_tickets_average_one() -> None:
    labels = np.array([0] * 90 + [1] * 10, dtype=np.int64)
    assert team_weights(labels, 0.0) is None  # every ticket weighs the same
    half, full = team_weights(labels, 0.5), team_weights(labels, 1.0)
    assert half is not None and full is not None
    assert 1.0 < half[1] / half[0] < full[1] / full[0]
    assert half[1] / half[0] == pytest.approx(3.0)  # (90 / 10) ** 0.5
    counts = np.bincount(labels)
    assert (half[0] * counts[0] + half[1] * counts[1]) / len(labels) == pytest.approx(1.0)


def test_the_grid_is_checked_and_named() -> None:
    assert checked_alphas([1.0, 0.0, 0.5, 1.0]) == (0.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="outside"):
        checked_alphas([1.5])
    with pytest.raises(ValueError, match="at least one"):
        checked_alphas([])
    assert alpha_name(1.0) == "" and alpha_name(0.5) == "@alpha=0.5"
