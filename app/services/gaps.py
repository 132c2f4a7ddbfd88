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
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from app.errors import GapNotFound
from app.schemas.gaps import Gap, GapList
from app.services.gaps_clusters import cluster
from app.services.gaps_cut import (
    above_article_mean,
    above_mean_cut,
    centred,
    cluster_cut,
    coverage_of,
    uncovered,
)
from app.services.gaps_describe import describe, rank, words
from app.services.gaps_sources import (
    ArticlePassages,
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


def article_scores(
    vectors: Vectors, articles: ArticlePassages, mean: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(candidates x articles), twice: each article's best passage for each candidate in
    raw cosines, and in cosines of the vectors centred on `mean` (gaps_cut.centred).

    One product serves both: for unit x, p the centred cosine is
    (x.p - x.m - p.m + m.m) / (|x - m| |p - m|), so no second pass over the passages."""
    count = len(articles.slugs)
    raw = np.full((len(vectors), count), -1.0, dtype=np.float32)
    spread = raw.copy()
    if not count or not len(vectors):
        return raw, spread
    starts = np.flatnonzero(np.r_[True, articles.article[1:] != articles.article[:-1]])
    centre = np.asarray(mean, dtype=np.float32)
    square = float(centre @ centre)
    passage_dot = articles.vectors @ centre
    passage_norm = np.sqrt(np.maximum(1.0 - 2.0 * passage_dot + square, 1e-12))
    for begin in range(0, len(vectors), SCORE_BLOCK):
        rows = vectors[begin : begin + SCORE_BLOCK]
        block = rows @ articles.vectors.T
        # Passages come ordered by article, so each article's best is one reduceat.
        raw[begin : begin + SCORE_BLOCK] = np.maximum.reduceat(block, starts, axis=1)
        row_dot = rows @ centre
        row_norm = np.sqrt(np.maximum(1.0 - 2.0 * row_dot + square, 1e-12))
        block -= row_dot[:, None]
        block -= passage_dot[None, :] - square
        block /= row_norm[:, None]
        block /= passage_norm[None, :]
        spread[begin : begin + SCORE_BLOCK] = np.maximum.reduceat(block, starts, axis=1)
    return raw, spread


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
    # Detection on cosines above each article's mean; clusters on centred vectors
    # (gaps_cut explains both; docs/BENCHMARKS.md measures them).
    mean = np.concatenate([articles.vectors, pool.vectors]).mean(axis=0)
    raw, spread_scores = article_scores(pool.vectors, articles, mean)
    coverage = coverage_of(above_article_mean(raw))
    cut = above_mean_cut(coverage)
    flagged = uncovered(coverage, cut)
    rows = np.flatnonzero(flagged)
    spread = replace(pool, vectors=centred(pool.vectors, mean))
    merge = cluster_cut(coverage_of(spread_scores), ~flagged)
    labels = cluster(spread.vectors[rows], merge) if rows.size else np.zeros(0, dtype=np.int64)
    best_cosine = raw.max(axis=1)
    member_words = [words(f"{pool.titles[r]} {pool.resolutions[r]}") for r in rows]
    position = {int(r): i for i, r in enumerate(rows)}
    frequency: Counter[str] = Counter(word for found in member_words for word in found)
    middle = win.since + (win.until - win.since) / 2
    gaps: list[Gap] = []
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1], True])
    groups = [
        rows[order[first:last]] for first, last in pairwise(bounds) if last - first >= MIN_SIZE
    ]
    for group in _top(groups, [rank(pool, group, middle) for group in groups]):
        gaps.append(
            describe(
                spread,
                group,
                best_cosine,
                member_words=[member_words[position[r]] for r in group],
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


def _top(
    groups: list[npt.NDArray[np.int64]], ranks: list[tuple[float, int, float]]
) -> list[npt.NDArray[np.int64]]:
    """The groups that can make the first `GAPS_MAX` gaps: those ranked at or above the
    `GAPS_MAX`-th (ties kept, the key breaks them once described)."""
    if len(groups) <= GAPS_MAX:
        return groups
    ordered = sorted(ranks, key=lambda r: (-r[0], -r[1], -r[2]))
    last = ordered[GAPS_MAX - 1]
    floor = (-last[0], -last[1], -last[2])
    return [group for group, r in zip(groups, ranks, strict=True) if (-r[0], -r[1], -r[2]) <= floor]


def find_gap(gaps: GapList, key: str) -> Gap:
    """The gap with `key`, or 404 (a gap the caller may not see is not there for it)."""
    for gap in gaps.gaps:
        if gap.key == key:
            return gap
    raise GapNotFound(f"No knowledge gap with key {key!r} in this range.")
