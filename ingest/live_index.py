"""The service's one view of the index: searches, similarities, snippets' terms, catch-up.

Services ask it for what they need and never touch the searcher behind it, so a change
of how the index is kept (a snapshot, a change feed, another process) stays in here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from index.analysis import guess_language
from index.embedder import Embedder, Vectors
from index.fusion import System
from index.preference import candidates_for, prefer
from index.query_vector import QueryVectors, query_vectors
from index.searcher import DocumentHit, FilterValue, Searcher
from ingest.index_sync import catch_up
from ingest.ticket_vectors import (
    TicketVectors,
    encode_new_ticket,
    read_by_second,
    ticket_text,
)

Filters = Mapping[str, FilterValue]


class LiveIndex:
    """Searches the index and catches up with what other writers committed."""

    def __init__(
        self,
        searcher: Searcher,
        *,
        embedder: Embedder,
        factory: sessionmaker[Session],
        refresh_seconds: float,
        default_system: System = "hybrid",
        on_change: Callable[[int], None] | None = None,
        on_refresh: Callable[[], None] | None = None,
        second_embedder: Embedder | None = None,
    ) -> None:
        """`on_change(n)` runs after a refresh replayed n > 0 changes (the router retrains);
        `on_refresh()` after every refresh that looked (the router checks for a newer model
        another replica trained). `second_embedder`, the search's second model, ranks
        English candidates of an English query too (index.second_standing); writers embed
        English passages with it."""
        self._searcher = searcher
        self.on_change = on_change
        self.on_refresh = on_refresh
        self.default_system: System = default_system
        self.embedder = embedder
        self.second_embedder = second_embedder
        self._factory = factory
        self._refresh_seconds = refresh_seconds
        self._last_refresh = time.monotonic()
        self._refresh_lock = threading.Lock()
        # Told how long encoding and searching take ("encode", "search"; the app's metrics).
        self.on_timing: Callable[[str, float], None] | None = None

    def _timed(self, stage: str, started: float) -> None:
        if self.on_timing is not None:
            self.on_timing(stage, time.perf_counter() - started)

    @property
    def watermark(self) -> int:
        """The newest change-log sequence number this index has applied."""
        return self._searcher.watermark

    def __len__(self) -> int:
        """Passages in the index."""
        return len(self._searcher)

    def refresh(self, *, force: bool = False) -> int:
        """Replay changes committed by anyone; throttled unless forced (after own writes)."""
        now = time.monotonic()
        if not force and now - self._last_refresh < self._refresh_seconds:
            return 0
        with self._refresh_lock:
            self._last_refresh = time.monotonic()
            with self._factory() as session:
                changes = catch_up(session, self._searcher, self.embedder.model_id)
        if changes and self.on_change is not None:
            self.on_change(changes)
        if self.on_refresh is not None:
            self.on_refresh()
        return changes

    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        system: System | None = None,
        prefer_language: str | None = None,
    ) -> list[DocumentHit]:
        """Search by a typed query with the default system unless another is asked for.

        `prefer_language` ranks near-equal hits in that language first (index.preference)
        without dropping the others.
        """
        self.refresh()
        chosen = system or self.default_system
        started = time.perf_counter()
        vectors = query_vectors(self.embedder, query) if chosen != "bm25" else None
        if vectors is not None:
            self._timed("encode", started)
        if not prefer_language:
            return self._ranked(vectors, query, k, filters, chosen)
        wanted = prefer_language.lower()
        candidates = self._ranked(vectors, query, candidates_for(k), filters, chosen)
        return prefer(candidates, lambda hit: self.language_of(hit) == wanted, k)

    def search_by_vectors(
        self, vectors: QueryVectors, text: str, k: int, filters: Filters | None = None
    ) -> list[DocumentHit]:
        """Search with vectors encoded already (a new ticket's), by the default system."""
        return self._ranked(vectors, text, k, filters, self.default_system)

    def similarities(
        self, vector: Vectors, k: int, filters: Filters | None = None
    ) -> dict[str, float]:
        """Cosine similarity of the k nearest documents (by doc key) to a vector.

        Unlike a fused score, a cosine keeps one meaning across queries: thresholds use it.
        """
        started = time.perf_counter()
        hits = self._searcher.search_documents(vector, k, filters, system="dense")
        self._timed("search", started)
        return {hit.doc_key: hit.score for hit in hits}

    def language_of(self, hit: DocumentHit) -> str | None:
        meta = self._searcher.meta(hit.best_passage_id)
        return meta.facets.get("language") if meta is not None else None

    def matched_terms(self, query: str) -> tuple[set[str], Callable[[str], tuple[str, ...]]]:
        """The index terms a query matches, and the analyser's variants of a word."""
        lexical = self._searcher.lexical
        terms = {term for group in lexical.weighted_query(query) for term, _ in group}
        return terms, lexical.analyzer.word_variants

    def encode_ticket(
        self,
        title: str,
        description: str,
        *,
        max_words: int,
        second_document_for: str | None = None,
    ) -> TicketVectors:
        """A new ticket as a question and as a document, in one encoder pass; and by the
        search's second model in one more: as the search's query when it counts
        (`second_vector`), and as a document when `second_document_for` names that model
        (the router's, `routing.service.Router.second_wanted`)."""
        started = time.perf_counter()
        vectors = encode_new_ticket(self.embedder, title, description, max_words=max_words)
        second = self.second_embedder
        if second is not None:
            reading = read_by_second(
                second,
                title,
                description,
                max_words=max_words,
                question=self._second_counts(ticket_text(title, description)),
                document=second_document_for == second.model_id,
            )
            vectors = replace(vectors, second=reading)
        self._timed("encode", started)
        return vectors

    def _second_counts(self, text: str) -> bool:
        """Whether the second model ranks this query: a second model, English passages
        with its vectors, and an English query (by its words)."""
        second = self._searcher.second
        if self.second_embedder is None or second is None or not len(second):
            return False
        return guess_language(text) == "en"

    def second_vector(self, text: str) -> Vectors | None:
        """The query by the second model, when it counts (`_second_counts`)."""
        if self.second_embedder is None or not self._second_counts(text):
            return None
        started = time.perf_counter()
        vector: Vectors = self.second_embedder.encode_queries([text])[0]
        self._timed("encode", started)
        return vector

    def _ranked(
        self,
        vectors: QueryVectors | None,
        text: str,
        k: int,
        filters: Filters | None,
        system: System,
    ) -> list[DocumentHit]:
        vector = vectors.ranking if vectors is not None else None
        second = None
        if system == "hybrid":
            encoded = vectors.second if vectors is not None else None
            second = encoded if encoded is not None else self.second_vector(text)
        started = time.perf_counter()
        hits = self._searcher.search_documents(
            vector, k, filters, text=text, system=system, second_query=second
        )
        self._timed("search", started)
        return hits
