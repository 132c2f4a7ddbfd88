"""Document-level search: best passage wins, filters apply before the cut to k."""

from __future__ import annotations

import numpy as np

from index.dense import DenseIndex
from index.searcher import PassageMeta, Searcher


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
