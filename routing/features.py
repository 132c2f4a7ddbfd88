"""Turn tickets into routing features: the embedding as the pipeline makes it, and TF-IDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from index.embedder import Embedder, Vectors
from ingest.ticket_vectors import DEFAULT_MAX_WORDS, mean_vector, ticket_passage_texts, ticket_text
from routing.vector_cache import VectorCache, ticket_key


@dataclass(frozen=True)
class TicketText:
    """The parts of a ticket the router reads."""

    title: str
    description: str

    @property
    def lexical(self) -> str:
        return ticket_text(self.title, self.description)


def passage_texts(ticket: TicketText, max_words: int = DEFAULT_MAX_WORDS) -> list[str]:
    """The texts the ingest pipeline embeds for this ticket (one per passage)."""
    return ticket_passage_texts(ticket.title, ticket.description, max_words)


def embed_tickets(
    embedder: Embedder,
    tickets: Sequence[TicketText],
    *,
    max_words: int = DEFAULT_MAX_WORDS,
    batch: int = 256,
    show_progress: bool = False,
    cache: VectorCache | None = None,
    save_every: int = 4096,
) -> Vectors:
    """One vector per ticket, encoded exactly as ingested tickets are, averaged per ticket.

    With a `cache`, tickets whose passage texts it holds are not encoded again, and the
    vectors of the others are added to it, written every `save_every` tickets.
    """
    if not tickets:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    texts_per_ticket = [passage_texts(t, max_words) for t in tickets]
    if cache is None:
        with tqdm(total=len(tickets), unit="ticket", disable=not show_progress) as bar:
            return _encode_passages(embedder, texts_per_ticket, batch, bar)
    keys = [ticket_key(texts) for texts in texts_per_ticket]
    found = cache.get(keys)
    missing = [i for i, key in enumerate(keys) if key not in found]
    # Saved every `save_every` tickets, so an interrupted long run keeps what it encoded.
    with tqdm(total=len(missing), unit="ticket", disable=not show_progress) as bar:
        for start in range(0, len(missing), save_every):
            part = missing[start : start + save_every]
            encoded = _encode_passages(embedder, [texts_per_ticket[i] for i in part], batch, bar)
            cache.put([keys[i] for i in part], encoded)
            found.update(zip([keys[i] for i in part], encoded, strict=True))
    return np.vstack([found[key] for key in keys]).astype(np.float32)


def _encode_passages(
    embedder: Embedder, texts_per_ticket: Sequence[Sequence[str]], batch: int, bar: Any
) -> Vectors:
    rows: list[Vectors] = []
    for start in range(0, len(texts_per_ticket), batch):
        group = texts_per_ticket[start : start + batch]
        flat = [text for texts in group for text in texts]
        vectors = embedder.encode_documents(flat)
        offset = 0
        for texts in group:
            rows.append(mean_vector(vectors[offset : offset + len(texts)]))
            offset += len(texts)
        bar.update(len(group))
    return np.vstack(rows).astype(np.float32)


class LexicalFeatures:
    """TF-IDF of word uni+bigrams and character n-grams, fitted on the training tickets.

    Character n-grams inside word boundaries catch German compounds and inflections that
    whole words miss ("Druckerwarteschlange" shares grams with "Drucker").
    """

    def __init__(self, *, char_ngrams: bool = True, max_features: int = 200_000) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        parts: list[tuple[str, Any]] = [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=max_features),
            )
        ]
        if char_ngrams:
            parts.append(
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=(3, 5),
                        sublinear_tf=True,
                        min_df=2,
                        max_features=max_features,
                    ),
                )
            )
        self._union: Any = FeatureUnion(parts)
        self.word_columns = 0

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """A sparse matrix, one row per text: word columns first, then character columns."""
        matrix = self._union.fit_transform(list(texts)).tocsr()
        self.word_columns = len(self._union.transformer_list[0][1].vocabulary_)
        return matrix

    def transform(self, texts: Sequence[str]) -> Any:
        return self._union.transform(list(texts)).tocsr()
