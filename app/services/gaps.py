"""Knowledge gaps (issue 12, item 3): clusters of tickets and searches no article covers.

Every resolved ticket and search of the range the caller may see is scored against the
published articles it may see (best passage per article); the cut between covered and not
is read from those very scores (gaps_cut), the uncovered ones are clustered at the same cut
(gaps_clusters), and each cluster of at least `MIN_SIZE` becomes a gap, ranked by volume
times escalation share (gaps_describe). Definitions in docs/KPIS.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from app.errors import GapNotFound
from app.schemas.gaps import Gap, GapList
from app.services.gaps_clusters import cluster
from app.services.gaps_cut import (
    centred,
    cluster_cut,
    coverage_cut,
    coverage_of,
    standardised,
    uncovered,
)
from app.services.gaps_describe import describe, words
from app.services.gaps_sources import (
    ArticlePassages,
    Candidates,
    Encode,
    article_passages,
    candidates,
)
from app.services.kpis_sql import window
from app.services.visibility import Visibility
from db.models import utcnow
from index.embedder import Embedder, Vectors
from ingest.ticket_vectors import mean_vector, ticket_passage_texts

# A gap is a pattern: one ticket alone is an exception, two alike are a topic.
MIN_SIZE = 2
GAPS_MAX = 50
# Candidates scored against the articles at a time: bounds the (candidates x passages) block.
SCORE_BLOCK = 4096


def ticket_document_encoder(embedder: Embedder, max_words: int) -> Encode:
    """Texts embedded as the pipeline embeds a resolved ticket (passages averaged)."""

    def encode(texts: Sequence[str]) -> Vectors:
        passages = [ticket_passage_texts(text, "", max_words) for text in texts]
        flat = embedder.encode_documents([p for group in passages for p in group])
        rows, start = [], 0
        for group in passages:
            rows.append(mean_vector(flat[start : start + len(group)]))
            start += len(group)
        return np.stack(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float32)

    return encode


def article_scores(pool: Candidates, articles: ArticlePassages) -> npt.NDArray[np.float32]:
    """(candidates x articles): each article's best passage for each candidate."""
    count = len(articles.slugs)
    scores = np.full((len(pool), count), -1.0, dtype=np.float32)
    if not count or not len(pool):
        return scores
    starts = np.flatnonzero(np.r_[True, articles.article[1:] != articles.article[:-1]])
    for begin in range(0, len(pool), SCORE_BLOCK):
        block = pool.vectors[begin : begin + SCORE_BLOCK] @ articles.vectors.T
        # Passages come ordered by article, so each article's best is one reduceat.
        scores[begin : begin + SCORE_BLOCK] = np.maximum.reduceat(block, starts, axis=1)
    return scores


def mine_gaps(
    session: Session,
    visibility: Visibility,
    *,
    start: date,
    end: date,
    team: str | None,
    model_id: str,
    encode: Encode,
) -> GapList:
    """The gaps of the range the caller may see, highest priority first."""
    win = window(session, start=start, end=end, interval="week", team=team, now=utcnow())
    pool = candidates(session, visibility, win, model_id=model_id, encode=encode)
    articles = article_passages(session, visibility, model_id)
    empty = GapList(
        start=start,
        end=end,
        team=team,
        candidates=len(pool),
        uncovered=0,
        cut=None,
        cluster_cut=None,
        gaps=[],
    )
    if len(pool) < 2 or len(articles.slugs) < 2:
        return empty  # no runner-up to compare with: no cut can be derived
    # Detection on each article's standardised cosines; clusters on centred vectors
    # (gaps_cut explains both; docs/BENCHMARKS.md measures them).
    raw = article_scores(pool, articles)
    coverage = coverage_of(standardised(raw))
    cut = coverage_cut(coverage)
    flagged = uncovered(coverage, cut)
    rows = np.flatnonzero(flagged)
    mean = np.concatenate([articles.vectors, pool.vectors]).mean(axis=0)
    spread = replace(pool, vectors=centred(pool.vectors, mean))
    spread_articles = replace(articles, vectors=centred(articles.vectors, mean))
    merge = cluster_cut(coverage_of(article_scores(spread, spread_articles)).best, ~flagged)
    labels = cluster(spread.vectors[rows], merge) if rows.size else np.zeros(0, dtype=np.int64)
    best_cosine = raw.max(axis=1)
    member_words = [words(f"{pool.titles[r]} {pool.resolutions[r]}") for r in rows]
    frequency: Counter[str] = Counter(word for found in member_words for word in found)
    middle = win.since + (win.until - win.since) / 2
    gaps: list[Gap] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if members.size < MIN_SIZE:
            continue
        gaps.append(
            describe(
                spread,
                rows[members],
                best_cosine,
                member_words=[member_words[i] for i in members],
                document_frequency=frequency,
                total=len(rows),
                middle=middle,
            )
        )
    gaps.sort(key=lambda gap: (-gap.priority, -gap.size, -gap.trend, gap.key))
    return empty.model_copy(
        update={
            "uncovered": int(rows.size),
            "cut": round(cut, 4),
            "cluster_cut": round(merge, 4),
            "gaps": gaps[:GAPS_MAX],
        }
    )


def find_gap(gaps: GapList, key: str) -> Gap:
    """The gap with `key`, or 404 (a gap the caller may not see is not there for it)."""
    for gap in gaps.gaps:
        if gap.key == key:
            return gap
    raise GapNotFound(f"No knowledge gap with key {key!r} in this range.")
