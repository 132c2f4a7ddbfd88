"""Fusion: exact matches lift a document as far as the query is known; noise cannot override."""

from __future__ import annotations

from index.fusion import (
    FUSION_CANDIDATES,
    FusionWeights,
    Ranked,
    confidence_fusion,
    evidence_by_language,
    lexical_evidence,
    lexical_trust,
    list_agreement,
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


def _fused(lexical: list[Ranked], coverage: float = 1.0, candidates: int = 10) -> list[str]:
    fused = confidence_fusion(
        _dense(), lexical, coverage=coverage, weights=FusionWeights(), candidates=candidates
    )
    return ranked_keys(fused)


def test_a_lone_exact_match_lifts_a_document() -> None:
    # An error code found in one document of the list the service reads (FUSION_CANDIDATES
    # deep) stands about sqrt(candidates) spreads out, above dense's clear favourite.
    assert _fused([Ranked("d3", 10.0, 3)], candidates=FUSION_CANDIDATES)[0] == "d3"


def test_a_barely_known_query_cannot_override_the_dense_ranking() -> None:
    # A German question against an English corpus: only a name is known (coverage 1/7).
    assert _fused([Ranked("d5", 10.0, 5)], coverage=1 / 7)[0] == "d0"


def test_matches_that_do_not_stand_out_leave_the_dense_order() -> None:
    # Ten candidates that all match equally well: BM25 says nothing about their order.
    lexical = [Ranked(f"d{i}", 5.0, i) for i in range(5, -1, -1)]
    lexical += [Ranked(f"x{i}", 5.0, 10 + i) for i in range(4)]
    assert _fused(lexical)[:3] == ["d0", "d1", "d2"]


def test_long_queries_keep_their_lexical_weight() -> None:
    # Bug reports as queries: every BM25 score is a small share of the ideal one, but the
    # document that stands out lexically must still win against a flat dense ranking.
    dense = [Ranked(f"d{i}", 0.80 - 0.001 * i, i) for i in range(10)]
    lexical = [Ranked("d7", 80.0, 7)] + [Ranked(f"d{i}", 20.0, i) for i in range(7)]
    fused = confidence_fusion(
        dense,
        lexical,
        coverage=0.95,
        weights=FusionWeights(),
        candidates=FUSION_CANDIDATES,
        groups=50,
    )
    assert ranked_keys(fused)[0] == "d7"


def test_lexical_evidence_is_measured_from_the_weakest_candidate() -> None:
    assert lexical_evidence([], 10) == []
    padded = lexical_evidence([9.0], 100)
    assert padded[0] > 9.0  # about sqrt(99) spreads above the zeros
    full = lexical_evidence([3.0, 2.0, 1.0], 3)
    assert full[2] == 0.0
    assert full[0] > full[1] > 0.0


def test_lexical_only_documents_still_appear() -> None:
    fused = confidence_fusion(
        _dense(), [Ranked("x", 9.0, 99)], coverage=1.0, weights=FusionWeights()
    )
    assert "x" in fused


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([_dense(), [Ranked("d2", 5.0, 2), Ranked("d0", 4.0, 0)]])
    assert ranked_keys(fused)[:2] == ["d0", "d2"]


def test_list_agreement_is_the_share_of_the_dense_head_bm25_also_found() -> None:
    lexical = [Ranked("d1", 5.0, 1), Ranked("x", 4.0, 9), Ranked("d4", 3.0, 4)]
    assert list_agreement(_dense(), lexical) == 2 / 3
    assert list_agreement(_dense(), []) == 0.0
    assert list_agreement([], lexical) == 0.0


def test_bm25_counts_less_when_its_list_shares_nothing_with_the_dense_one() -> None:
    # A paraphrase: BM25's best documents are not among dense's; its strongest pick wins
    # only while agreement does not matter (floor 1), not when it does (floor 0).
    lexical = [Ranked("x", 10.0, 9), Ranked("y", 2.0, 10)]

    def first(floor: float) -> str:
        weights = FusionWeights(lexical=1.1, agreement_floor=floor)
        fused = confidence_fusion(_dense(), lexical, coverage=1.0, weights=weights, candidates=10)
        return ranked_keys(fused)[0]

    assert first(1.0) == "x"
    assert first(0.0) == "d0"
    agreeing = [Ranked("d3", 10.0, 3), *(Ranked(f"d{i}", 2.0, i) for i in (0, 1, 2, 4))]
    fused = confidence_fusion(
        _dense(), agreeing, coverage=1.0, weights=FusionWeights(agreement_floor=0.0)
    )
    assert ranked_keys(fused)[0] == "d3"
    assert lexical_trust(1.0, 0.5, FusionWeights(lexical=2.0, agreement_floor=0.5)) == 1.5


def test_a_long_query_keeps_full_lexical_trust_when_the_lists_disagree() -> None:
    weights = FusionWeights(lexical=1.0, agreement_floor=0.0, full_trust_groups=20)
    assert lexical_trust(1.0, 0.0, weights, groups=40) == 1.0  # a whole bug report
    assert lexical_trust(1.0, 0.0, weights, groups=5) == 0.25  # a short question
    assert lexical_trust(1.0, 1.0, weights, groups=5) == 1.0  # ... whose lists agree


def test_bm25_evidence_within_each_language() -> None:
    # German documents share the query's German words; the English one can match only the
    # words both languages share, and does so best among the English documents.
    german = [Ranked(f"de{i}", 7.5 - 0.2 * i, i) for i in range(12)]
    english = [Ranked("en0", 5.5, 100), Ranked("en1", 1.0, 101)]
    lexical = sorted(german + english, key=lambda item: item.score, reverse=True)
    languages = {item.doc_key: item.doc_key[:2] for item in lexical}
    apart = dict(
        zip(
            (item.doc_key for item in lexical),
            evidence_by_language(lexical, languages, 20),
            strict=True,
        )
    )
    together = dict(
        zip(
            (item.doc_key for item in lexical),
            lexical_evidence([item.score for item in lexical], 20),
            strict=True,
        )
    )
    assert together["en0"] < together["de0"]
    assert apart["en0"] > apart["de0"]
    assert apart["de0"] == lexical_evidence([item.score for item in german], 20)[0]
    dense = [Ranked("de0", 0.90, 0), Ranked("en0", 0.90, 100), Ranked("x", 0.80, 200)]
    weights = FusionWeights()
    fused = confidence_fusion(dense, lexical, coverage=1.0, weights=weights, candidates=20)
    assert ranked_keys(fused)[0] == "de0"
    fused = confidence_fusion(
        dense, lexical, coverage=1.0, weights=weights, candidates=20, languages=languages
    )
    assert ranked_keys(fused)[0] == "en0"


def test_the_second_model_can_reorder_english_candidates() -> None:
    # e5 puts d0 narrowly first; the second model sees d1 far ahead of every other English
    # candidate: the mean of both standings ranks d1 first.
    second = {"d0": 0.40, "d1": 0.80, "d2": 0.41, "d3": 0.40, "d4": 0.39, "d5": 0.40}
    without = confidence_fusion(_dense(), [], coverage=1.0, weights=FusionWeights())
    fused = confidence_fusion(_dense(), [], coverage=1.0, weights=FusionWeights(), second=second)
    assert ranked_keys(without)[0] == "d0"
    assert ranked_keys(fused)[0] == "d1"


def test_candidates_without_a_second_cosine_keep_their_dense_standing() -> None:
    # Only d4 and d5 are English: d0-d3 are scored as without the second model; between d4
    # and d5 the second model's order counts too (d5 rises, d4 falls).
    without = confidence_fusion(_dense(), [], coverage=1.0, weights=FusionWeights())
    fused = confidence_fusion(
        _dense(), [], coverage=1.0, weights=FusionWeights(), second={"d4": 0.1, "d5": 0.9}
    )
    assert {k: fused[k] for k in ("d0", "d1", "d2", "d3")} == {
        k: without[k] for k in ("d0", "d1", "d2", "d3")
    }
    assert fused["d5"] > without["d5"]
    assert fused["d4"] < without["d4"]
