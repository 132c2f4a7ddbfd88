"""The split embedder sends each call to its side: requests to one engine, passages to the
other (the real model's figures: tests/index/test_onnx_engine.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from index.embedder import Vectors
from index.split_embedder import SplitEmbedder
from tests.fakes import HashingEmbedder


class Labelled(HashingEmbedder):
    """A hashing embedder that says which engine it is and counts its calls."""

    def __init__(self, engine: str, dim: int = 16) -> None:
        super().__init__(dim=dim)
        self._label = engine
        self.calls: list[str] = []

    @property
    def engine(self) -> str:
        return self._label

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        self.calls.append("documents")
        return super().encode_documents(texts, show_progress=show_progress)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        self.calls.append("queries")
        return super().encode_queries(texts)

    def encode_query_with_documents(
        self, query: str, documents: Sequence[str]
    ) -> tuple[Vectors, Vectors]:
        self.calls.append("query_with_documents")
        recorded = len(self.calls)
        vectors = super().encode_query_with_documents(query, documents)
        del self.calls[recorded:]  # the fake's own inner calls
        return vectors


def test_requests_go_to_the_query_side_and_stored_passages_to_the_other() -> None:
    queries, passages = Labelled("onnx-int8"), Labelled("onnx")
    split = SplitEmbedder(queries=queries, passages=passages)
    split.encode_documents(["a stored passage"])
    split.encode_queries(["a question"])
    split.encode_query_with_documents("a ticket", ["a ticket"])
    assert passages.calls == ["documents"]
    assert queries.calls == ["queries", "query_with_documents"]
    assert split.engine == "onnx" and split.query_engine == "onnx-int8"
    assert split.model_id == passages.model_id and split.dim == 16


def test_both_sides_must_run_the_same_model() -> None:
    with pytest.raises(ValueError, match="same model"):
        SplitEmbedder(queries=Labelled("onnx-int8", dim=8), passages=Labelled("onnx", dim=16))


def test_vectors_are_the_sides_own() -> None:
    queries, passages = Labelled("onnx-int8"), Labelled("onnx")
    split = SplitEmbedder(queries=queries, passages=passages)
    assert np.array_equal(split.encode_documents(["x"]), passages.encode_documents(["x"]))
