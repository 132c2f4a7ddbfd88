"""The router's second embedding model: another reading of each ticket, for the classifier.

The index model (multilingual-e5-small) embeds every passage at ingest; the router's
classifier adds learners on a second model's vectors (all-MiniLM-L6-v2 by default), which
measured better than either model alone (docs/ROUTING.md). Only the router needs them, so
they are not stored with the passages: resolved tickets are encoded when the classifier
trains, kept in a vector cache keyed by each ticket's passage texts so that a retrain
encodes only new or edited tickets, and a new ticket is encoded when it is routed.
The model is loaded on first use: a knowledge base with too few tickets for the
classifier never pays for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from index.embedder import Embedder, Vectors
from ingest.ticket_vectors import DEFAULT_MAX_WORDS, SecondReading
from routing.features import TicketText, embed_tickets, passage_texts
from routing.vector_cache import VectorCache, ticket_key


class SecondModel:
    """A second embedder, loaded on first use, with a cache of resolved tickets' vectors."""

    def __init__(
        self,
        model_id: str,
        load: Callable[[], Embedder],
        *,
        cache_dir: Path | None = None,
        max_words: int = DEFAULT_MAX_WORDS,
    ) -> None:
        self.model_id = model_id
        self.cache_dir = cache_dir
        self.max_words = max_words
        self._load = load
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    @classmethod
    def loaded(
        cls,
        embedder: Embedder,
        *,
        cache_dir: Path | None = None,
        max_words: int = DEFAULT_MAX_WORDS,
    ) -> SecondModel:
        """Wrap a model that is already loaded (tests share one across apps)."""
        return cls(embedder.model_id, lambda: embedder, cache_dir=cache_dir, max_words=max_words)

    @property
    def embedder(self) -> Embedder:
        return self.load()

    def load(self) -> Embedder:
        """The model, loaded by the first caller; others wait for it."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    embedder = self._load()
                    if embedder.model_id != self.model_id:
                        raise ValueError(
                            f"Second model loaded as {embedder.model_id!r}, expected "
                            f"{self.model_id!r}."
                        )
                    self._embedder = embedder
        return self._embedder

    def tickets(self, tickets: Sequence[TicketText]) -> Vectors:
        """One vector per ticket; cached ones are read, only the others are encoded.

        The cache is pruned to these tickets afterwards, so it holds the training set
        (bounded by `classifier_max_tickets`), not every ticket ever seen.
        """
        if self.cache_dir is None:
            return embed_tickets(self.embedder, tickets, max_words=self.max_words)
        cache = VectorCache(self.cache_dir, self.embedder.model_id, self.embedder.dim)
        vectors = embed_tickets(self.embedder, tickets, max_words=self.max_words, cache=cache)
        cache.retain([ticket_key(passage_texts(t, self.max_words)) for t in tickets])
        return vectors

    def ticket(self, ticket: TicketText, reading: SecondReading | None = None) -> Vectors:
        """A new ticket's vector, encoded as resolved tickets are (never cached); taken from
        `reading` when it was read by this model from passages cut alike."""
        if (
            reading is not None
            and reading.document is not None
            and reading.model_id == self.model_id
            and reading.max_words == self.max_words
        ):
            return reading.document
        return embed_tickets(self.embedder, [ticket], max_words=self.max_words).reshape(-1)
