"""The second model's vectors of a document's passages, for English documents only.

The search ranks English candidates of an English query by a second model besides the
main one (index.second_standing); a document's passages get its vectors when the
document is English: by its stated language, or by its words when none is stated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.analysis import guess_language
from index.embedder import Embedder, Vectors
from ingest.chunking import Chunk


@dataclass(frozen=True)
class SecondEncoding:
    """One document's passages by the second model: one row per chunk."""

    model_id: str
    vectors: Vectors


def is_english(language: str | None, chunks: Sequence[Chunk]) -> bool:
    """English by the stated language (`en`, `en-GB`), else by the passages' words."""
    if language:
        return language.lower().split("-")[0] == "en"
    return guess_language(" ".join(chunk.text for chunk in chunks)) == "en"


def encode_second(
    second: Embedder | None, documents: Sequence[tuple[str | None, Sequence[Chunk]]]
) -> list[SecondEncoding | None]:
    """Per document (its language, its chunks): its second vectors, or None where it is not
    English, has no passages or no second model is configured. One encoder call for all."""
    if second is None:
        return [None] * len(documents)
    english = [
        i
        for i, (language, chunks) in enumerate(documents)
        if chunks and is_english(language, chunks)
    ]
    texts = [chunk.embedding_text() for i in english for chunk in documents[i][1]]
    if not texts:
        return [None] * len(documents)
    vectors = second.encode_documents(texts)
    encoded: list[SecondEncoding | None] = [None] * len(documents)
    start = 0
    for i in english:
        count = len(documents[i][1])
        encoded[i] = SecondEncoding(second.model_id, vectors[start : start + count])
        start += count
    return encoded
