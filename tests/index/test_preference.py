"""The soft language preference: reorders near-ties, never buries a clearly better hit."""

from __future__ import annotations

from index.preference import prefer
from index.searcher import DocumentHit


def _hit(key: str, score: float) -> DocumentHit:
    return DocumentHit(doc_key=key, score=score, best_passage_id=0, passage_ids=(0,))


def test_a_near_tie_goes_to_the_preferred_language() -> None:
    hits = [_hit("en-1", 0.90), _hit("de-1", 0.89), _hit("en-2", 0.50)]
    ranked = prefer(hits, lambda h: h.doc_key.startswith("de"), 2)
    assert [h.doc_key for h in ranked] == ["de-1", "en-1"]


def test_a_clearly_better_hit_in_another_language_stays_first() -> None:
    hits = [_hit("en-1", 0.90), _hit("de-1", 0.70), _hit("en-2", 0.50)]
    ranked = prefer(hits, lambda h: h.doc_key.startswith("de"), 3)
    assert [h.doc_key for h in ranked] == ["en-1", "de-1", "en-2"]


def test_no_hits_and_no_preferred_hits() -> None:
    assert prefer([], lambda h: True, 3) == []
    hits = [_hit("en-1", 0.9), _hit("en-2", 0.8)]
    assert prefer(hits, lambda h: False, 1) == hits[:1]


def test_an_exact_tie_goes_to_the_preferred_language() -> None:
    hits = [_hit("en-1", 0.8), _hit("de-1", 0.8)]
    assert [h.doc_key for h in prefer(hits, lambda h: h.doc_key.startswith("de"), 2)] == [
        "de-1",
        "en-1",
    ]
