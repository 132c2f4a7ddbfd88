"""Document-level search: best passage wins, filters apply before the cut to k."""

from __future__ import annotations

import numpy as np
import pytest

from index.dense import DenseIndex
from index.searcher import FacetIndex, PassageMeta, Searcher
from index.second_standing import SecondVectors


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _searcher() -> Searcher:
    searcher = Searcher(DenseIndex(3))
    metas = [
        PassageMeta(1, "article:1", {"kind": "article", "team": "network"}),
        PassageMeta(2, "article:1", {"kind": "article", "team": "network"}),
        PassageMeta(3, "article:1", {"kind": "article", "team": "network"}),
        PassageMeta(4, "ticket:9", {"kind": "ticket", "team": "workplace"}),
    ]
    vectors = np.vstack([_unit(1, 0, 0), _unit(1, 0.1, 0), _unit(1, 0.2, 0), _unit(0, 1, 0)])
    texts = ["vpn drops", "vpn fix", "vpn client", "printer offline"]
    searcher.add(metas, vectors, texts)
    return searcher


def test_a_long_document_counts_once_with_its_best_passage() -> None:
    hits = _searcher().search_documents(_unit(1, 0.05, 0), k=2)
    assert [h.doc_key for h in hits] == ["article:1", "ticket:9"]
    assert hits[0].best_passage_id in (1, 2)
    assert set(hits[0].passage_ids) == {1, 2, 3}


def test_filter_applies_inside_the_search() -> None:
    hits = _searcher().search_documents(_unit(1, 0, 0), k=1, filters={"team": "workplace"})
    assert [h.doc_key for h in hits] == ["ticket:9"]


def test_filter_with_several_values_and_fields() -> None:
    searcher = _searcher()
    both = searcher.search_documents(_unit(1, 0, 0), k=5, filters={"team": ["network", "x"]})
    assert [h.doc_key for h in both] == ["article:1"]
    none = searcher.search_documents(
        _unit(1, 0, 0), k=5, filters={"team": "network", "kind": "ticket"}
    )
    assert none == []


def test_removed_passages_leave_facets_and_results() -> None:
    searcher = _searcher()
    searcher.remove([4])
    assert searcher.search_documents(_unit(0, 1, 0), k=5, filters={"team": "workplace"}) == []
    assert len(searcher) == 3


def test_facet_answers_are_cached_and_follow_adds_and_removes() -> None:
    facets = FacetIndex()
    metas = [
        PassageMeta(i, f"doc:{i}", {"kind": kind, "team": team})
        for i, kind, team in [
            (3, "article", "network"),
            (1, "ticket", "network"),
            (2, "ticket", "workplace"),
        ]
    ]
    for meta in metas:
        facets.add(meta)
    single = facets.allowed({"team": "network"})
    combined = facets.allowed({"team": ["network", "workplace"], "kind": "ticket"})
    assert single is not None and single.tolist() == [1, 3]
    assert combined is not None and combined.tolist() == [1, 2]
    assert facets.allowed({"team": "network"}) is single
    assert facets.allowed({"kind": "ticket", "team": ["workplace", "network"]}) is combined
    with pytest.raises(ValueError):
        single[0] = 5

    facets.add(PassageMeta(4, "doc:4", {"kind": "ticket", "team": "network"}))
    assert _ids(facets.allowed({"team": "network"})) == [1, 3, 4]
    assert _ids(facets.allowed({"team": ["network", "workplace"], "kind": "ticket"})) == [1, 2, 4]
    facets.remove(metas[1])
    assert _ids(facets.allowed({"team": "network"})) == [3, 4]
    assert _ids(facets.allowed({"team": ["network", "workplace"], "kind": "ticket"})) == [2, 4]
    assert _ids(facets.allowed({"team": "nobody"})) == []
    assert facets.allowed({}) is None


def _ids(found: np.ndarray | None) -> list[int]:
    assert found is not None
    return [int(i) for i in found]


def _english_searcher() -> Searcher:
    """Three English tickets; e5 (dimension 3) narrowly prefers ticket:1, the second model
    (dimension 2) clearly ticket:2."""
    searcher = Searcher(DenseIndex(3))
    searcher.use_second(SecondVectors("second"))
    metas = [PassageMeta(i, f"ticket:{i}", {"language": "en"}) for i in (1, 2, 3)]
    vectors = np.vstack([_unit(1, 0.30, 0), _unit(1, 0.35, 0), _unit(0.2, 1, 0)])
    second = {1: _unit(0, 1), 2: _unit(1, 0.05), 3: _unit(0.1, 1)}
    searcher.add(metas, vectors, ["disk full", "disk quota", "printer jam"], second=second)
    return searcher


def test_an_english_query_is_ranked_by_the_second_model_too() -> None:
    searcher = _english_searcher()
    query = _unit(1, 0.2, 0)

    def first(second_query: np.ndarray | None = None) -> str:
        hits = searcher.search_documents(
            query, 3, text="screen", system="hybrid", second_query=second_query
        )
        return hits[0].doc_key

    assert first() == "ticket:1"
    assert first(second_query=_unit(1, 0)) == "ticket:2"
    searcher.remove([2])
    assert searcher.second is not None and len(searcher.second) == 2
    assert first(second_query=_unit(1, 0)) == "ticket:1"


def test_a_document_stands_by_its_best_passage_for_the_second_model() -> None:
    second = SecondVectors("second")
    second.add({1: ("article:a", _unit(1, 0)), 2: ("article:a", _unit(0, 1))})
    second.add({3: ("ticket:b", _unit(1, 1))})
    cosines = second.cosines(_unit(0, 1), ["article:a", "ticket:b", "ticket:none"])
    # Stored at half precision: cosines within 1e-3.
    assert cosines == pytest.approx({"article:a": 1.0, "ticket:b": 2**-0.5}, abs=1e-3)
    second.remove([2])
    assert second.cosines(_unit(0, 1), ["article:a"]) == pytest.approx({"article:a": 0.0}, abs=1e-3)


def test_a_second_vector_given_again_replaces_the_old_one_even_in_another_document() -> None:
    second = SecondVectors("second")
    second.add({1: ("article:a", _unit(1, 0)), 2: ("article:a", _unit(0, 1))})
    second.add({1: ("article:a", _unit(0, 1))})
    assert len(second) == 2
    assert second.cosines(_unit(1, 0), ["article:a"]) == pytest.approx({"article:a": 0.0}, abs=1e-3)
    second.add({2: ("ticket:b", _unit(1, 0))})
    assert second.cosines(_unit(1, 0), ["article:a", "ticket:b"]) == pytest.approx(
        {"article:a": 0.0, "ticket:b": 1.0}, abs=1e-3
    )
    second.remove([1])
    assert second.cosines(_unit(1, 0), ["article:a", "ticket:b"]) == pytest.approx(
        {"ticket:b": 1.0}, abs=1e-3
    )


def test_second_vectors_are_held_once_at_half_precision() -> None:
    second = SecondVectors("second")
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((200, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    second.add({i: (f"ticket:{i // 4}", vectors[i]) for i in range(200)})
    assert second.nbytes() <= 200 * 384 * 2 + 200 * 8
    query = vectors[7]
    cosines = second.cosines(query, [f"ticket:{d}" for d in range(50)])
    exact = {f"ticket:{d}": float(np.max(vectors[4 * d : 4 * d + 4] @ query)) for d in range(50)}
    assert max(abs(cosines[key] - exact[key]) for key in exact) < 1e-3
