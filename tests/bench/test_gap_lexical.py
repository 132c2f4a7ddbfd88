"""bench.gap_lexical: the lexical index's BM25 for every candidate at once, and the rules
measured with it (docs/BENCHMARKS.md, "Knowledge gaps")."""

from __future__ import annotations

import numpy as np
import pytest

from bench.gap_lexical import detection_scores, lexical_scores, mixed_similarity, standardised
from index.lexical import LexicalIndex

PASSAGES = [
    "Druckerwarteschlange hängt, nichts wird gedruckt.",
    "Fehler 0x80070005 beim Drucken",
    "VPN drops every 10 minutes on srv-vpn01.corp.local",
    "Outlook startet nicht nach dem Update",
]
ARTICLE = np.array([0, 0, 1, 2])  # the printer article has two passages
QUERIES = [
    "Drucker hängt mit Fehler 0x80070005, Drucker neu gestartet",  # a compound part, twice
    "vpn drops on srv-vpn01.corp.local",
    "Outlok startet nicht",  # a typo: respelled as a search respells it
    "und oder aber",  # stop words only
]


def test_each_article_scores_its_best_passage_as_a_share_of_the_querys_perfect_score() -> None:
    found = lexical_scores(QUERIES, PASSAGES, ARTICLE)
    index = LexicalIndex()
    index.add_many(enumerate(PASSAGES))
    assert found.shape == (4, 3)
    for row, query in enumerate(QUERIES[:3]):
        per_passage = index.scores(query) / index.max_score(query)
        best = [per_passage[np.equal(ARTICLE, a)].max() for a in range(3)]
        assert found[row] == pytest.approx(best, abs=1e-5), query
    assert found[0].argmax() == 0 and found[1].argmax() == 1 and found[2].argmax() == 2
    assert found[3].tolist() == [0.0, 0.0, 0.0]  # no word the passages know
    assert lexical_scores([], PASSAGES, ARTICLE).shape == (0, 3)


def test_standardised_scores_are_above_each_articles_mean_in_units_of_their_spread() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(0.8, 0.05, (30, 6)) + np.linspace(0, 0.1, 6)  # articles' own levels
    found = standardised(scores)
    assert found.mean(axis=0) == pytest.approx(np.zeros(6), abs=1e-5)
    assert float(found.std()) == pytest.approx(1.0, abs=1e-5)
    # A scale of its own (BM25 shares, cosines) makes no difference once standardised.
    assert standardised(10 * scores + 3) == pytest.approx(found, abs=1e-4)
    assert detection_scores(scores, 10 * scores) == pytest.approx(2 * found, abs=1e-4)


def test_the_mixed_similarity_is_the_mean_of_the_dense_and_the_key_term_cosine() -> None:
    documents = ["Drucker druckt nicht", "VPN bricht ab"]
    queries = ["Drucker druckt nicht mehr", "VPN bricht ständig ab", "Drucker und VPN"]
    dense_vectors = np.eye(3, 4, dtype=np.float32)  # three unrelated directions
    dense_scores = np.array([[0.2, 0.1], [0.0, 0.3], [0.1, 0.1]], dtype=np.float32)
    scores, vectors = mixed_similarity(queries, documents, dense_scores, dense_vectors)
    # Dense cosines between the queries are 0, so their dot products are half the lexical.
    pair = vectors @ vectors.T
    assert np.diag(pair) == pytest.approx(np.ones(3), abs=1e-5)
    assert pair[0, 2] > 0 and pair[1, 2] > 0 and pair[0, 1] == pytest.approx(0.0, abs=1e-6)
    assert pair[0, 2] < 0.5
    assert scores[0, 0] > 0.5 * dense_scores[0, 0] and scores[0, 1] == pytest.approx(0.05)
