"""Key terms: the second similarity the gap miner clusters by.

Dense vectors alone put two tickets about different products close when they ask alike
("how do I reset X" and "how do I reset Y"); a gap's tickets share words that its missing
article would be about. Each text becomes a TF-IDF vector over the search's own analyser
terms (index.analysis: stemming, compound parts, respelled words), fitted on the knowledge
base's articles and the candidates themselves, since a missing topic's words are in no
article. The similarity the clusters use is the mean of the centred cosine and this one
(gaps_clusters), and so is the merge cut read from the covered candidates (gaps_cut),
ticket to article, in the same similarity.

Measured over six sets and six seeds (docs/BENCHMARKS.md, "Key terms in the miner"): the
worst ARI margin to TF-IDF rose from -0.350 to -0.034, F1 untouched (detection does not use
them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer

from app.services.gaps_clusters import Terms
from index.analysis import Analyzer

Scores = npt.NDArray[np.float32]


# Candidates whose key-term scores are computed at a time: bounds the dense block.
BLOCK = 4096


@dataclass(frozen=True)
class KeyTerms:
    """Sparse TF-IDF rows (L2-normalised) of the candidates and of the articles."""

    candidates: Terms
    articles: Terms


def key_terms(candidate_texts: Sequence[str], article_texts: Sequence[str]) -> KeyTerms | None:
    """Key terms of both sides, or None when no text has a term (nothing to compare by)."""
    vectorizer = TfidfVectorizer(
        analyzer=Analyzer().document_terms, sublinear_tf=True, dtype=np.float32
    )
    try:
        vectorizer.fit([*article_texts, *candidate_texts])
    except ValueError:  # an empty vocabulary: no text has a term
        return None
    return KeyTerms(
        vectorizer.transform(list(candidate_texts)), vectorizer.transform(list(article_texts))
    )


def with_key_terms(dense: Scores, terms: KeyTerms | None) -> Scores:
    """The mean of a (candidates x articles) dense similarity and the key terms' cosine
    of each candidate to each article, block by block of candidates."""
    if terms is None:
        return dense
    mixed = np.asarray(dense, dtype=np.float32) * np.float32(0.5)
    articles = terms.articles.T.tocsc()
    for begin in range(0, len(mixed), BLOCK):
        lexical = (terms.candidates[begin : begin + BLOCK] @ articles).toarray()
        mixed[begin : begin + BLOCK] += np.float32(0.5) * lexical.astype(np.float32)
    return mixed
