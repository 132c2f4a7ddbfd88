"""A soft preference for one facet value (the user's language) on top of any ranking."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.searcher import DocumentHit

# A preferred hit gains this share of the score range of the candidates, so the preference
# means the same for cosine, BM25 and fused scores: it reorders near-ties, it never lifts a
# poor match over a clearly better one in another language.
PREFERENCE_SHARE = 0.25
# Candidates looked at per result: the preferred hits may sit just below the cut.
CANDIDATES_PER_RESULT = 3


def candidates_for(k: int) -> int:
    return k * CANDIDATES_PER_RESULT


def prefer(
    hits: Sequence[DocumentHit],
    is_preferred: Callable[[DocumentHit], bool],
    k: int,
    *,
    share: float = PREFERENCE_SHARE,
) -> list[DocumentHit]:
    """The k best after preferred hits gain `share` of the candidates' score range."""
    if not hits:
        return []
    scores = [hit.score for hit in hits]
    bonus = share * (max(scores) - min(scores))
    # Exact ties (equal scores leave no range to share) also go to the preferred hit.
    ranked = sorted(
        hits,
        key=lambda hit: (hit.score + (bonus if is_preferred(hit) else 0.0), is_preferred(hit)),
        reverse=True,
    )
    return ranked[:k]
