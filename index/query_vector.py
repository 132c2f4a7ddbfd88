"""The vector a search ranks by: the query read in both of the model's roles, blended.

Instruction-tuned embedders such as e5 encode text in two roles: `query: ` for a question
looking for its answer, `passage: ` for a text to be found. Agents type both kinds: a
short question ("outlook hängt beim start") and a whole ticket, which is a text like the
resolved tickets it should find (a symmetric match). The question role alone missed much
of the second case: on the duplicate-bug sets dense nDCG@10 rose from 0.589 to 0.640
(seamonkey) and 0.603 to 0.621 (hadoop) with the text role mixed in at 0.3, while the
German and cross-lingual question sets moved by at most 0.003 (docs/BENCHMARKS.md).

One weight for every query, chosen across the four retrieval sets: the largest mean gain
of the default ranking with no set losing more than 0.001. Both roles come from one
encoder pass. A model without role prefixes gives the same vector twice, so the blend
changes nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.embedder import Embedder, Vectors

TEXT_ROLE_WEIGHT = 0.3


def blend_roles(question: Vectors, text: Vectors, weight: float = TEXT_ROLE_WEIGHT) -> Vectors:
    """`(1 - weight) * question + weight * text`, L2-normalised (both inputs normalised)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be within [0, 1], got {weight}")
    mixed = (1.0 - weight) * np.asarray(question, dtype=np.float32) + weight * np.asarray(
        text, dtype=np.float32
    )
    norm = float(np.linalg.norm(mixed))
    blended: Vectors = (mixed / norm if norm > 0 else mixed).astype(np.float32)
    return blended


@dataclass(frozen=True)
class QueryVectors:
    """A query's question-role vector and the blend that rankings use.

    `second` is the query by the search's second model when it was encoded with the rest
    (a new ticket's, `ingest.ticket_vectors`); None: a search encodes it if it counts.
    """

    question: Vectors
    ranking: Vectors
    second: Vectors | None = None

    @classmethod
    def of(cls, question: Vectors, text: Vectors, second: Vectors | None = None) -> QueryVectors:
        return cls(question=question, ranking=blend_roles(question, text), second=second)


def query_vectors(embedder: Embedder, text: str) -> QueryVectors:
    """Both vectors of a query, in one encoder pass.

    Cosine thresholds (the first-level how-to) were set on the question vector and keep
    using it; every ranking uses the blend.
    """
    question, as_text = embedder.encode_query_with_documents(text, [text])
    return QueryVectors.of(question, as_text[0])
