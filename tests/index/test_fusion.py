"""Fusion: a strong exact match lifts a document; lexical noise cannot override the dense."""

from __future__ import annotations

from index.fusion import (
    FusionWeights,
    Ranked,
    confidence_fusion,
    ranked_keys,
    reciprocal_rank_fusion,
    standardised,
)


def _dense() -> list[Ranked]:
    scores = [0.90, 0.84, 0.83, 0.82, 0.81, 0.80]
    return [Ranked(f"d{i}", s, i) for i, s in enumerate(scores)]


def test_standardised_scores_have_zero_mean() -> None:
    values = standardised([1.0, 2.0, 3.0])
    assert sum(values) == 0.0
    assert values[2] > values[1] > values[0]
    assert standardised([0.5, 0.5]) == [0.0, 0.0]


def test_a_perfect_lexical_match_lifts_a_document() -> None:
    lexical = [Ranked("d3", 10.0, 3)]
    fused = confidence_fusion(_dense(), lexical, lexical_ceiling=10.0, weights=FusionWeights())
    assert ranked_keys(fused)[0] == "d3"


def test_weak_lexical_noise_does_not_override_the_dense_ranking() -> None:
    lexical = [Ranked("d5", 0.4, 5)]
    fused = confidence_fusion(_dense(), lexical, lexical_ceiling=10.0, weights=FusionWeights())
    assert ranked_keys(fused)[0] == "d0"


def test_lexical_only_documents_still_appear() -> None:
    lexical = [Ranked("x", 9.0, 99)]
    fused = confidence_fusion(_dense(), lexical, lexical_ceiling=10.0, weights=FusionWeights())
    assert "x" in fused


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([_dense(), [Ranked("d2", 5.0, 2), Ranked("d0", 4.0, 0)]])
    assert ranked_keys(fused)[:2] == ["d0", "d2"]
