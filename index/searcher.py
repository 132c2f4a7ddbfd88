"""The live search state: a dense index plus passage metadata, swapped and updated under a lock."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.dense import DenseIndex, Ids
from index.embedder import Vectors

FilterValue = str | Sequence[str]


@dataclass(frozen=True)
class PassageMeta:
    """What a search needs to know about one passage, besides its vector."""

    passage_id: int
    doc_key: str
    facets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentHit:
    """A document ranked by its best passage."""

    doc_key: str
    score: float
    best_passage_id: int
    passage_ids: tuple[int, ...]


class FacetIndex:
    """Inverted sets of passage ids per facet value, for filtering inside the search."""

    def __init__(self) -> None:
        self._sets: dict[tuple[str, str], set[int]] = {}
        self._arrays: dict[tuple[str, str], Ids] = {}

    def add(self, meta: PassageMeta) -> None:
        for name, value in meta.facets.items():
            key = (name, value)
            self._sets.setdefault(key, set()).add(meta.passage_id)
            self._arrays.pop(key, None)

    def remove(self, meta: PassageMeta) -> None:
        for name, value in meta.facets.items():
            key = (name, value)
            members = self._sets.get(key)
            if members is not None:
                members.discard(meta.passage_id)
                self._arrays.pop(key, None)

    def _array(self, key: tuple[str, str]) -> Ids:
        cached = self._arrays.get(key)
        if cached is None:
            members = self._sets.get(key, set())
            cached = np.fromiter(sorted(members), dtype=np.int64, count=len(members))
            self._arrays[key] = cached
        return cached

    def allowed(self, filters: Mapping[str, FilterValue]) -> Ids | None:
        """Ids matching every filter (a list means any of its values); None means no filter."""
        result: Ids | None = None
        for name, wanted in filters.items():
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            arrays = [self._array((name, value)) for value in values]
            matching = np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, np.int64)
            result = (
                matching if result is None else np.intersect1d(result, matching, assume_unique=True)
            )
        return result


class Searcher:
    """Thread-safe owner of the dense index and its metadata."""

    def __init__(self, index: DenseIndex, *, watermark: int = 0) -> None:
        self._index = index
        self._meta: dict[int, PassageMeta] = {}
        self._facets = FacetIndex()
        self._lock = threading.RLock()
        self.watermark = watermark

    @property
    def dim(self) -> int:
        return self._index.dim

    @property
    def index(self) -> DenseIndex:
        return self._index

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def meta(self, passage_id: int) -> PassageMeta | None:
        return self._meta.get(passage_id)

    def set_metadata(self, metas: Iterable[PassageMeta]) -> None:
        """Attach metadata for passages already in the index (after loading a snapshot)."""
        with self._lock:
            for meta in metas:
                self._meta[meta.passage_id] = meta
                self._facets.add(meta)

    def add(self, metas: Sequence[PassageMeta], vectors: Vectors) -> None:
        with self._lock:
            fresh = [m for m in metas if m.passage_id not in self._meta]
            if len(fresh) != len(metas):
                keep = np.array([m.passage_id not in self._meta for m in metas])
                vectors = vectors[keep]
            ids = np.array([m.passage_id for m in fresh], dtype=np.int64)
            self._index.add(ids, vectors)
            for meta in fresh:
                self._meta[meta.passage_id] = meta
                self._facets.add(meta)

    def remove(self, passage_ids: Iterable[int]) -> None:
        with self._lock:
            present = [pid for pid in passage_ids if pid in self._meta]
            self._index.remove(np.array(present, dtype=np.int64))
            for pid in present:
                self._facets.remove(self._meta.pop(pid))

    def drop_unknown(self) -> list[int]:
        """Remove vectors that have no metadata (deleted while no reader was watching)."""
        with self._lock:
            orphans = [int(i) for i in self._index.ids() if int(i) not in self._meta]
            self._index.remove(np.array(orphans, dtype=np.int64))
            return orphans

    def search_passages(
        self, query: Vectors, k: int, filters: Mapping[str, FilterValue] | None = None
    ) -> list[tuple[int, float]]:
        with self._lock:
            allowed = self._facets.allowed(filters) if filters else None
            ids, scores = self._index.search(query, k, allowed)
            return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def search_documents(
        self, query: Vectors, k: int, filters: Mapping[str, FilterValue] | None = None
    ) -> list[DocumentHit]:
        """The k best documents, each scored by its best passage.

        Passages are fetched in growing rounds until k distinct documents are found or the
        (filtered) collection is exhausted, so long documents cannot crowd out the k.
        """
        with self._lock:
            total = len(self._index)
            fetch = max(4 * k, 32)
            while True:
                passages = self.search_passages(query, fetch, filters)
                grouped: dict[str, list[tuple[int, float]]] = {}
                for pid, score in passages:
                    meta = self._meta.get(pid)
                    if meta is not None:
                        grouped.setdefault(meta.doc_key, []).append((pid, score))
                if len(grouped) >= k or len(passages) < fetch or fetch >= total:
                    break
                fetch *= 4
        hits = [
            DocumentHit(
                doc_key=doc_key,
                score=members[0][1],
                best_passage_id=members[0][0],
                passage_ids=tuple(pid for pid, _ in members),
            )
            for doc_key, members in grouped.items()
        ]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:k]
