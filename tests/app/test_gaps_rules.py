"""The gap miner's rules on synthetic vectors: the coverage cut, the clusters, the medoid."""

from __future__ import annotations

import numpy as np
import pytest

from app.services import gaps, gaps_clusters
from app.services.gaps import article_scores
from app.services.gaps_clusters import cluster, medoid
from app.services.gaps_cut import (
    above_article_mean,
    above_mean_cut,
    centred,
    cluster_cut,
    coverage_cut,
    coverage_of,
    separating_cut,
    uncovered,
)
from app.services.gaps_sources import ArticlePassages


def _unit(rows: np.ndarray) -> np.ndarray:
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _around(
    centres: np.ndarray, per: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """`per` noisy unit vectors around each centre, and the centre each belongs to."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(centres)), per)
    points = centres[labels] + noise * rng.standard_normal((len(labels), centres.shape[1]))
    return _unit(points), labels


def test_separating_cut_falls_between_two_apart_samples() -> None:
    high = np.array([0.80, 0.85, 0.9, 0.95])
    low = np.array([0.1, 0.2, 0.3])
    cut = separating_cut(high, low)
    assert 0.3 <= cut < 0.8
    # Overlapping samples: the cut is where the distribution functions lie furthest apart.
    assert separating_cut(np.array([0.5, 0.6, 0.7, 0.8]), np.array([0.2, 0.3, 0.55])) == 0.55


def test_separating_cut_refuses_an_empty_sample() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        separating_cut(np.array([]), np.array([0.1]))


def test_coverage_reads_best_and_runner_up_per_row() -> None:
    coverage = coverage_of(np.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.6]]))
    assert coverage.best.tolist() == pytest.approx([0.9, 0.7])
    assert coverage.runner_up.tolist() == pytest.approx([0.5, 0.6])
    assert coverage.best_article.tolist() == [1, 0]
    single = coverage_of(np.array([[0.4], [0.3]]))
    assert single.runner_up.tolist() == [-1.0, -1.0]


def test_the_cut_flags_exactly_the_tickets_whose_article_is_missing() -> None:
    """Ten articles; tickets near six of them, and tickets near four new topics. The cut
    read from best vs runner-up scores must flag the second group and only it."""
    rng = np.random.default_rng(0)
    topics = _unit(rng.standard_normal((14, 48)))
    articles = topics[:10]
    covered, _ = _around(topics[:10], 3, 0.08, seed=1)
    missing, _ = _around(topics[10:], 3, 0.08, seed=2)
    tickets = np.vstack([covered, missing])
    coverage = coverage_of(tickets @ articles.T)
    flagged = uncovered(coverage, coverage_cut(coverage))
    assert flagged.tolist() == [False] * len(covered) + [True] * len(missing)


def test_clusters_recover_the_topics_at_the_covered_median() -> None:
    rng = np.random.default_rng(3)
    centres = _unit(rng.standard_normal((5, 32)))
    points, labels = _around(centres, 6, 0.05, seed=4)
    found = cluster(points, 0.8)
    # Same partition up to renaming: one label per topic, none shared.
    pairs = set(zip(labels.tolist(), found.tolist(), strict=True))
    assert len(pairs) == 5 == len(set(found.tolist()))
    # A cut above every pair's similarity keeps every ticket alone.
    assert len(set(cluster(points, 0.999).tolist())) == len(points)


def test_cluster_cut_is_the_median_of_the_covered_best_scores() -> None:
    scores = np.array([[0.9, 0.1], [0.7, 0.2], [0.8, 0.3], [0.3, 0.0]])
    assert cluster_cut(coverage_of(scores), np.array([True, True, True, False])) == (
        pytest.approx(0.8)
    )
    # Nothing covered: the highest best score, so only near-identical tickets merge.
    assert cluster_cut(coverage_of(scores), np.zeros(4, dtype=bool)) == pytest.approx(0.9)


def test_scores_above_the_article_mean_discount_an_article_close_to_everything() -> None:
    """Article 0 is generic (0.8-0.85 to every ticket); article 1 is close to ticket 2
    only. In raw cosines article 0 is everyone's best; above the article's mean, ticket
    2's is 1."""
    scores = np.array([[0.85, 0.3], [0.80, 0.2], [0.82, 0.79], [0.81, 0.25]])
    assert coverage_of(scores).best_article.tolist() == [0, 0, 0, 0]
    assert coverage_of(above_article_mean(scores)).best_article[2] == 1
    assert above_article_mean(scores)[:, 0] == pytest.approx([0.03, -0.02, 0.0, -0.01], abs=1e-6)


def test_an_article_every_ticket_scores_alike_covers_none_of_them() -> None:
    """Four tickets match articles 0-3 (0.95 against 0.70-0.75 elsewhere); ticket 4 has no
    article. Article 4 is scored 0.800 by every ticket but ticket 4 (0.803: a hair higher).
    Divided by that article's tiny spread (z-scores) the hair looks like a match and ticket
    4 as covered as the others; above the article's mean it stays far below a match."""
    scores = np.full((5, 5), 0.72)
    scores[np.arange(4), np.arange(4)] = 0.95
    scores[:, 4] = [0.800, 0.800, 0.800, 0.800, 0.803]
    scores[4, :4] = [0.70, 0.75, 0.71, 0.74]
    z = scores - scores.mean(axis=0)
    z /= z.std(axis=0)
    assert coverage_of(z).best[4] >= coverage_of(z).best[:4].min()  # the old rule's blind spot
    coverage = coverage_of(above_article_mean(scores))
    assert coverage.best[4] < coverage.best[:4].min() / 10


def test_tickets_below_every_articles_mean_are_uncovered_whatever_the_ks_point() -> None:
    """One ticket matches article 0; three alike tickets score every article below its
    mean. Their best sits just above their runner-up, so the KS point falls below them
    and alone would call them covered; the floor at the mean does not."""
    scores = np.array(
        [[0.90, 0.90, 0.50], [0.30, 0.25, 0.22], [0.30, 0.25, 0.22], [0.30, 0.25, 0.22]]
    )
    coverage = coverage_of(above_article_mean(scores))
    assert (coverage.best[1:] < 0).all()
    assert coverage_cut(coverage) < coverage.best[1:].min()  # the KS point alone: covered
    assert uncovered(coverage, above_mean_cut(coverage)).tolist() == [False, True, True, True]


def test_rounds_above_the_exact_limit_give_the_exact_partition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    centres = _unit(rng.standard_normal((4, 32)))
    points, labels = _around(centres, 30, 0.05, seed=6)
    monkeypatch.setattr(gaps_clusters, "EXACT_MAX", 25)
    found = cluster(points, 0.8, seed=1)
    assert len(set(zip(labels.tolist(), found.tolist(), strict=True))) == 4
    assert len(set(found.tolist())) == 4


def test_centring_removes_the_shared_direction() -> None:
    rng = np.random.default_rng(7)
    shared = np.ones(16, dtype=np.float32) * 3
    points = _unit(shared + rng.standard_normal((50, 16)))
    assert float((points @ points.T).mean()) > 0.8  # the narrow band of raw cosines
    spread = centred(points, points.mean(axis=0))
    assert abs(float((spread @ spread.T)[np.triu_indices(50, 1)].mean())) < 0.1
    assert np.allclose(np.linalg.norm(spread, axis=1), 1.0, atol=1e-5)


def test_medoid_is_the_most_typical_row() -> None:
    angles = np.array([0.0, 0.2, 0.4, 1.2])
    rows = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert medoid(rows) == 2  # 0.4: highest summed cosine to all (the outlier pulls it up)


def test_article_scores_centre_without_a_second_pass() -> None:
    """Raw and centred best-passage scores from one product equal the scores of the
    centred vectors computed directly, article by article (two passages for article 0)."""
    rng = np.random.default_rng(8)
    shared = np.ones(24, dtype=np.float32) * 2
    tickets = _unit(shared + rng.standard_normal((7, 24)))
    passages = _unit(shared + rng.standard_normal((5, 24)))
    articles = ArticlePassages(passages, np.array([0, 0, 1, 2, 2]), ["a", "b", "c"])
    mean = np.concatenate([passages, tickets]).mean(axis=0)
    raw, spread = article_scores(tickets, articles, mean)
    direct = centred(tickets, mean) @ centred(passages, mean).T
    for column, members in enumerate(([0, 1], [2], [3, 4])):
        assert np.allclose(raw[:, column], (tickets @ passages[members].T).max(axis=1), atol=1e-5)
        assert np.allclose(spread[:, column], direct[:, members].max(axis=1), atol=1e-5)


def test_only_the_groups_that_can_make_the_list_are_described(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gaps, "GAPS_MAX", 2)
    groups = [np.array([n]) for n in range(5)]
    ranks = [(1.0, 2, 0.0), (3.0, 2, 0.0), (2.0, 4, 0.0), (2.0, 4, 0.0), (0.5, 9, 1.0)]
    chosen = [int(group[0]) for group in gaps._top(groups, ranks)]
    assert chosen == [1, 2, 3]  # the second place is tied: both kept, the key decides
    monkeypatch.setattr(gaps, "GAPS_MAX", 10)
    assert len(gaps._top(groups, ranks)) == 5
