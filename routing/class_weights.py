"""How strongly the learners weight rare teams up: w_c proportional to n_c^-alpha.

alpha = 1 is scikit-learn's "balanced" (every team weighs as much as every other in the
loss), alpha = 0 no weights (every ticket weighs the same, so the learners lean towards
the big teams, as the plain TF-IDF + LinearSVC baseline does), 0.5 halfway. Balanced
weights help the small teams' recall on endava; on a history where one team holds half
the tickets they cost accuracy on it. Which is right is a property of the customer's own
tickets, so the classifier scores every alpha of its grid by the same cross-validated
log-loss it chooses its stack by (routing.selection) and keeps the lowest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# The grid the classifier chooses from; (1.0,) alone is the old fixed "balanced".
DEFAULT_ALPHAS = (0.0, 0.5, 1.0)


def team_weights(labels: npt.NDArray[np.int64], alpha: float) -> dict[int, float] | None:
    """Per-team weight n_c^-alpha, scaled so the tickets' weights average 1; None at 0.

    At alpha = 1 this is n / (teams * n_c), exactly scikit-learn's "balanced".
    """
    if alpha == 0.0:
        return None
    teams, counts = np.unique(labels, return_counts=True)
    raw = counts.astype(np.float64) ** -alpha
    scale = len(labels) / float((raw * counts).sum())
    return {int(team): float(weight * scale) for team, weight in zip(teams, raw, strict=True)}


def alpha_name(alpha: float) -> str:
    """How a candidate trained with this alpha is named: "" for balanced (the old
    candidates keep their names), else "@alpha=0.5"."""
    return "" if alpha == 1.0 else f"@alpha={alpha:g}"


def checked_alphas(alphas: Sequence[float]) -> tuple[float, ...]:
    """The grid, sorted and without repeats; each alpha in [0, 1]."""
    if not alphas:
        raise ValueError("class_weight_alphas needs at least one alpha.")
    for alpha in alphas:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"class-weight alpha {alpha} is outside [0, 1].")
    return tuple(sorted({float(alpha) for alpha in alphas}))
