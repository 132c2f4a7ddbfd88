"""A second signal for the gap miner, measured and not shipped: BM25 against the articles.

    (used by bench.gap_rules --detections; figures in docs/BENCHMARKS.md, "Knowledge gaps")

Dense cosines say two texts are about the same kind of thing; a missing article is often
told by the words instead (a product, an error code, a name the knowledge base never
mentions). The score is the lexical index's own (index/lexical.py, over the articles'
passages: the same analyser, BM25 constants, compound parts and respelled words). A
query's BM25 is a sum over its words, so each distinct word is scored once against every
passage and a candidate's score is the sum of its words' rows: one sparse product for a
mining run instead of one search per ticket (a search per candidate costs 1-12 ms, so
minutes at 100k tickets).

A score is the share of the candidate's perfect score (every query word found in a
passage as rare as it can be, `LexicalIndex.max_score`), so a long ticket and a short
search are on one scale; an article's score is its best passage's.

The detection rule measured with it (`detection_scores`): each signal above each
article's mean over the candidates, in units of its spread over the whole matrix, the two
added; the coverage cut as shipped (gaps_cut.above_mean_cut). The clustering similarity
measured (`mixed_similarity`): the mean of the centred dense cosine and the TF-IDF cosine
over the analyser's terms (key terms), fitted on the articles and the candidates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer

from app.services.gaps_cut import above_article_mean
from index.analysis import Analyzer
from index.lexical import LexicalIndex

Scores = npt.NDArray[np.float32]
# Candidates scored at a time: bounds the dense (candidates x passages) block.
BLOCK = 4096


def _word_rows(
    queries: Sequence[str], index: LexicalIndex
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, npt.NDArray[np.float64]]:
    """(candidates x words) which distinct words each candidate has, (words x passages)
    each word's BM25 against each passage, and each word's perfect score. Words are keyed
    by their analysed groups, so two spellings with the same stems count once, as in a
    search."""
    key_of: dict[str, tuple[tuple[str, ...], ...]] = {}
    column: dict[tuple[tuple[str, ...], ...], int] = {}
    word_data: list[npt.NDArray[np.float32]] = []
    word_passages: list[npt.NDArray[np.int64]] = []
    perfect: list[float] = []
    rows: list[int] = []
    columns: list[int] = []
    for row, text in enumerate(queries):
        seen: set[int] = set()
        for token in index.analyzer.tokens(text):
            key = key_of.get(token)
            if key is None:
                key = key_of[token] = tuple(index.analyzer.query_groups(token))
            if not key:
                continue  # a stop word
            found = column.get(key)
            if found is None:
                found = column[key] = len(perfect)
                scores = index.scores(token)
                hits = np.flatnonzero(scores > 0)
                word_passages.append(hits)
                word_data.append(scores[hits])
                perfect.append(index.max_score(token))
            if found not in seen:
                seen.add(found)
                rows.append(row)
                columns.append(found)
    words = len(perfect)
    has = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(len(queries), words)
    )
    lengths = [len(hits) for hits in word_passages]
    pointers = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    scores_matrix = sparse.csr_matrix(
        (
            np.concatenate(word_data) if word_data else np.zeros(0, dtype=np.float32),
            np.concatenate(word_passages) if word_passages else np.zeros(0, dtype=np.int64),
            pointers,
        ),
        shape=(words, len(index)),
    )
    return has, scores_matrix, np.asarray(perfect, dtype=np.float64)


def lexical_scores(
    queries: Sequence[str], passages: Sequence[str], article: npt.NDArray[np.int64]
) -> Scores:
    """(queries x articles): each article's best passage by BM25, as a share of the
    query's perfect score (0 for a query with no word the passages know). `article` gives
    each passage's article (0..articles-1), the passages of one article side by side."""
    articles = int(article.max()) + 1 if len(article) else 0
    out = np.zeros((len(queries), articles), dtype=np.float32)
    if not len(queries) or not articles:
        return out
    index = LexicalIndex()
    index.add_many(enumerate(passages))
    has, word_scores, perfect = _word_rows(queries, index)
    total = np.asarray(has @ perfect[:, None], dtype=np.float64).ravel()
    starts = np.flatnonzero(np.r_[True, article[1:] != article[:-1]])
    for begin in range(0, len(queries), BLOCK):
        block = np.asarray((has[begin : begin + BLOCK] @ word_scores).toarray(), dtype=np.float32)
        best = np.maximum.reduceat(block, starts, axis=1)
        scale = total[begin : begin + BLOCK]
        out[begin : begin + BLOCK] = best / np.where(scale > 0, scale, 1.0)[:, None]
    return out


def standardised(scores: npt.NDArray[np.floating]) -> Scores:
    """Scores above each article's mean (gaps_cut.above_article_mean) over their spread
    across the whole (candidates x articles) matrix: one signal in units of its own
    distribution on this knowledge base, so that cosines and BM25 shares can be added.
    One spread for the matrix, not one per article (the z-score rule's flaw)."""
    above = above_article_mean(scores)
    spread = float(above.std())
    return np.asarray(above / spread if spread > 0 else above, dtype=np.float32)


def detection_scores(dense: npt.NDArray[np.floating], lexical: npt.NDArray[np.floating]) -> Scores:
    """Dense cosines and lexical scores, each standardised on this knowledge base, added:
    an article covers a ticket when the two together say it stands out for it."""
    return np.asarray(standardised(dense) + standardised(lexical), dtype=np.float32)


def mixed_similarity(
    queries: Sequence[str],
    documents: Sequence[str],
    dense_scores: npt.NDArray[np.floating],
    dense_vectors: npt.NDArray[np.floating],
) -> tuple[Scores, Scores]:
    """(queries x documents) scores and (queries x dim) vectors whose dot products are the
    mean of the dense cosine (as given) and the TF-IDF cosine over the analyser's terms,
    fitted on the documents and the queries (a missing topic's words are in no article)."""
    analyzer = Analyzer()
    vectorizer = TfidfVectorizer(analyzer=analyzer.document_terms, sublinear_tf=True)
    vectorizer.fit([*documents, *queries])
    words = vectorizer.transform(queries)
    lexical = np.asarray((words @ vectorizer.transform(documents).T).toarray(), dtype=np.float32)
    half = np.float32(np.sqrt(0.5))
    vectors = np.hstack(
        [half * np.asarray(dense_vectors, dtype=np.float32), half * words.toarray()]
    )
    scores = 0.5 * np.asarray(dense_scores, dtype=np.float32) + 0.5 * lexical
    return np.asarray(scores, dtype=np.float32), np.asarray(vectors, dtype=np.float32)
