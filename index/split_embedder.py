"""int8 for what a request encodes, fp32 for the vectors stored with the passages.

Measured on the six retrieval sets (docs/BENCHMARKS.md, "int8 queries on fp32 passages"):
dynamic int8 loses its nDCG on the passage side (long bug reports with outlier activations),
while int8 query vectors against fp32 passages rank within 0.005 of torch on every set. A
query is encoded on the request path, so it gets int8's speed; a passage is encoded once at
ingest, so it gets fp32's vectors (torch's, to cosine 1.0000).
"""

from __future__ import annotations

from collections.abc import Sequence

from index.embedder import Embedder, Vectors


class SplitEmbedder:
    """Queries (and a query's own text role) on one engine, stored passages on another."""

    def __init__(self, queries: Embedder, passages: Embedder) -> None:
        if (queries.model_id, queries.dim) != (passages.model_id, passages.dim):
            raise ValueError("both sides of a split embedder must run the same model")
        self._queries = queries
        self._passages = passages

    @property
    def model_id(self) -> str:
        return self._passages.model_id

    @property
    def engine(self) -> str:
        """What embedded the stored vectors: what a snapshot must record."""
        return self._passages.engine

    @property
    def query_engine(self) -> str:
        return self._queries.engine

    @property
    def dim(self) -> int:
        return self._passages.dim

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        return self._passages.encode_documents(texts, show_progress=show_progress)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._queries.encode_queries(texts)

    def encode_query_with_documents(
        self, query: str, documents: Sequence[str]
    ) -> tuple[Vectors, Vectors]:
        """A request's ticket: its question and its text role both on the query engine."""
        return self._queries.encode_query_with_documents(query, documents)
