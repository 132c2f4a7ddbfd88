"""The per-team meta-model: a learner trusted more on the team it reads well."""

from __future__ import annotations

import numpy as np

from routing.meta import PerTeamSoftmax, PooledSoftmax


def _scores(sizes: tuple[int, ...], reads: int) -> tuple[np.ndarray, np.ndarray]:
    """Two learners; the first scores every team with noise, except team `reads`, whose
    tickets it scores 3 higher; the second is noise."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    features = rng.normal(size=(len(labels), len(sizes), 2))
    features[:, :, 0] *= 2.0
    features[:, reads, 0] += 3.0 * (labels == reads)
    return features, labels


def test_a_learner_is_trusted_more_on_the_team_it_reads() -> None:
    features, labels = _scores((400, 400, 100), reads=2)
    per_team = PerTeamSoftmax(1e-3).fit(features, labels)
    trust = per_team.weights[:, None] + per_team.deviations
    assert trust[0, 2] > trust[0, 0] + 0.3 and trust[0, 2] > trust[0, 1] + 0.3
    pooled = PooledSoftmax(1e-3).fit(features, labels)
    small = labels == 2
    assert (per_team.predict_proba(features)[small].argmax(axis=1) == 2).mean() > (
        pooled.predict_proba(features)[small].argmax(axis=1) == 2
    ).mean()
    np.testing.assert_allclose(per_team.predict_proba(features).sum(axis=1), 1.0)
