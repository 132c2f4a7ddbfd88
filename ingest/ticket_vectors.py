"""A ticket's vectors as the pipeline makes them: its passages embedded and averaged."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embedder import Embedder, Vectors
from index.query_vector import QueryVectors
from ingest.chunking import chunk_ticket

DEFAULT_MAX_WORDS = 180
# What a new ticket's description is read to: four passages of DEFAULT_MAX_WORDS, well past
# a normal ticket (median under 100 words), so a pasted log cannot make a request cost more.
DEFAULT_READ_WORDS = 600

_WORD = re.compile(r"\S+")


def leading_words(text: str, words: int) -> str:
    """The text up to and including its `words`-th word, whitespace kept as it was."""
    for count, match in enumerate(_WORD.finditer(text), start=1):
        if count == words:
            return text[: match.end()]
    return text


def ticket_passage_texts(
    title: str, description: str, max_words: int = DEFAULT_MAX_WORDS
) -> list[str]:
    """The texts the ingest pipeline embeds for a ticket (one per passage)."""
    return [c.embedding_text() for c in chunk_ticket(title, description, max_words)]


def ticket_text(title: str, description: str) -> str:
    """A ticket as one text: what lexical search and the router's words read."""
    return f"{title}\n{description}".strip()


def mean_vector(vectors: Vectors) -> Vectors:
    """Average of a ticket's passage vectors, renormalised (one passage: unchanged)."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return np.asarray(mean / norm if norm > 0 else mean, dtype=np.float32)


@dataclass(frozen=True)
class SecondReading:
    """A new ticket by a second model, read once for both its users: as the search's query
    (`question`: the ticket's text, as `index.second_standing` compares it) and as the
    router's document (`document`: its passages averaged, as `routing.second_model`
    encodes resolved tickets). Either is None when nobody asked for it."""

    model_id: str
    max_words: int
    question: Vectors | None
    document: Vectors | None


@dataclass(frozen=True)
class TicketVectors:
    """A new ticket read as a question (to search by) and as a document (to route by)."""

    question: Vectors
    document: Vectors
    second: SecondReading | None = None

    @property
    def query(self) -> QueryVectors:
        """The vectors searches rank by: both roles blended (index.query_vector)."""
        second = self.second.question if self.second is not None else None
        return QueryVectors.of(self.question, self.document, second)


def encode_new_ticket(
    embedder: Embedder, title: str, description: str, *, max_words: int = DEFAULT_MAX_WORDS
) -> TicketVectors:
    """Both vectors of a new ticket in one encoder pass.

    The document vector is what a resolved ticket's passages give when ingested: embedded
    as documents and averaged, so a new ticket routes like the tickets it is compared with.
    """
    question, passages = embedder.encode_query_with_documents(
        ticket_text(title, description), ticket_passage_texts(title, description, max_words)
    )
    return TicketVectors(question=question, document=mean_vector(passages))


def read_by_second(
    second: Embedder,
    title: str,
    description: str,
    *,
    max_words: int,
    question: bool,
    document: bool,
) -> SecondReading | None:
    """The ticket by the second model in one call: the two readings run side by side
    (`index.onnx_embedder`), where two calls would run one after the other."""
    text = ticket_text(title, description)
    passages = ticket_passage_texts(title, description, max_words)
    as_question: Vectors | None = None
    as_document: Vectors | None = None
    if question and document:
        as_question, vectors = second.encode_query_with_documents(text, passages)
        as_document = mean_vector(vectors)
    elif question:
        as_question = second.encode_queries([text])[0]
    elif document:
        as_document = mean_vector(second.encode_documents(passages))
    else:
        return None
    return SecondReading(second.model_id, max_words, as_question, as_document)
