"""The live search state: a dense index plus passage metadata, swapped and updated under a lock."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from index.dense import DenseIndex, Ids
from index.embedder import Vectors
from index.fusion import (
    FUSION_CANDIDATES,
    FusionWeights,
    Ranked,
    System,
    confidence_fusion,
    ranked_keys,
    reciprocal_rank_fusion,
)
from index.language_offset import LanguageCentroids
from index.lexical import LexicalIndex
from index.second_standing import SecondVectors

FilterValue = str | Sequence[str]


@dataclass(frozen=True, slots=True)
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


FilterKey = tuple[tuple[str, tuple[str, ...]], ...]


class FacetIndex:
    """Inverted sets of passage ids per facet value, for filtering inside the search.

    `allowed` runs on every search, so its answers are cached: one sorted array per facet
    value, and one per combined filter (several values or fields). At 100k passages
    rebuilding a broad filter cost 18-28 ms a search; a cached answer costs nothing. Any
    add or remove drops the combined answers and the arrays of the values it touched.
    Cached arrays are read-only, so a caller cannot corrupt the cache.
    """

    def __init__(self) -> None:
        self._sets: dict[tuple[str, str], set[int]] = {}
        self._arrays: dict[tuple[str, str], Ids] = {}
        self._combined: dict[FilterKey, Ids] = {}

    def add(self, meta: PassageMeta) -> None:
        for name, value in meta.facets.items():
            key = (name, value)
            self._sets.setdefault(key, set()).add(meta.passage_id)
            self._arrays.pop(key, None)
        if self._combined:
            self._combined.clear()

    def remove(self, meta: PassageMeta) -> None:
        for name, value in meta.facets.items():
            key = (name, value)
            members = self._sets.get(key)
            if members is not None:
                members.discard(meta.passage_id)
                self._arrays.pop(key, None)
        if self._combined:
            self._combined.clear()

    def _array(self, key: tuple[str, str]) -> Ids:
        cached = self._arrays.get(key)
        if cached is None:
            members = self._sets.get(key, set())
            cached = np.sort(np.fromiter(members, dtype=np.int64, count=len(members)))
            cached.flags.writeable = False
            self._arrays[key] = cached
        return cached

    @staticmethod
    def _key(filters: Mapping[str, FilterValue]) -> FilterKey:
        return tuple(
            sorted(
                (name, (wanted,) if isinstance(wanted, str) else tuple(sorted(set(wanted))))
                for name, wanted in filters.items()
            )
        )

    def allowed(self, filters: Mapping[str, FilterValue]) -> Ids | None:
        """Ids matching every filter (a list means any of its values); None means no filter.

        The answer is a sorted, read-only array shared with later calls.
        """
        if not filters:
            return None
        key = self._key(filters)
        if len(key) == 1 and len(key[0][1]) == 1:
            name, (value,) = key[0]
            return self._array((name, value))
        cached = self._combined.get(key)
        if cached is None:
            cached = self._compute(key)
            cached.flags.writeable = False
            self._combined[key] = cached
        return cached

    def _compute(self, key: FilterKey) -> Ids:
        result: Ids | None = None
        for name, values in key:
            arrays = [self._array((name, value)) for value in values]
            if len(arrays) == 1:
                matching = arrays[0]
            elif arrays:
                # The values of one facet are disjoint, so sorting the union is enough.
                matching = np.sort(np.concatenate(arrays))
            else:
                matching = np.zeros(0, np.int64)
            result = (
                matching if result is None else np.intersect1d(result, matching, assume_unique=True)
            )
        return result.copy() if result is not None else np.zeros(0, np.int64)


class Searcher:
    """Thread-safe owner of the dense and lexical indexes and their passage metadata."""

    def __init__(
        self,
        index: DenseIndex,
        lexical: LexicalIndex | None = None,
        *,
        watermark: int = 0,
        weights: FusionWeights | None = None,
    ) -> None:
        self._index = index
        self._lexical = lexical if lexical is not None else LexicalIndex()
        self.weights = weights or FusionWeights()
        self._meta: dict[int, PassageMeta] = {}
        self._facets = FacetIndex()
        # Passages share a handful of facet combinations (kind, team, language, audience):
        # each combination is held once, not once per passage (about 360 bytes each).
        self._facet_pool: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
        self._languages = LanguageCentroids(index.dim)
        self._second: SecondVectors | None = None
        self._lock = threading.RLock()
        # The change-feed position (ingest.index_sync): every change up to `watermark` is
        # applied; on PostgreSQL changes of transactions from `txid_floor` on are re-read
        # (`recent` holds the ones applied already), since they may commit out of order.
        self.watermark = watermark
        self.txid_floor: int | None = None
        self.recent: set[int] = set()

    @property
    def dim(self) -> int:
        return self._index.dim

    @property
    def index(self) -> DenseIndex:
        return self._index

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    @property
    def second(self) -> SecondVectors | None:
        """The second model's passage vectors (English passages), if the search uses one."""
        return self._second

    def use_second(self, second: SecondVectors | None) -> None:
        """Rank English candidates by a second model too (index.second_standing)."""
        with self._lock:
            self._second = second

    def meta(self, passage_id: int) -> PassageMeta | None:
        return self._meta.get(passage_id)

    def _shared(self, meta: PassageMeta) -> PassageMeta:
        """The same metadata with its facets as the one read-only mapping of their values."""
        key = tuple(sorted(meta.facets.items()))
        facets = self._facet_pool.get(key)
        if facets is None:
            facets = self._facet_pool[key] = MappingProxyType(dict(key))
        return PassageMeta(meta.passage_id, meta.doc_key, facets)

    def set_metadata(self, metas: Iterable[PassageMeta]) -> None:
        """Attach metadata for passages already in the index (after loading a snapshot)."""
        with self._lock:
            counted = []
            for meta in map(self._shared, metas):
                before = self._meta.get(meta.passage_id)
                if before is not None and _language(before) != _language(meta):
                    vector = self._index.vectors(np.array([meta.passage_id], dtype=np.int64))
                    self._languages.remove([_language(before)], vector)
                    before = None
                if before is None:
                    counted.append(meta)
                self._meta[meta.passage_id] = meta
                self._facets.add(meta)
            ids = np.array([meta.passage_id for meta in counted], dtype=np.int64)
            self._languages.add([_language(m) for m in counted], self._index.stored_vectors(ids))

    def add(
        self,
        metas: Sequence[PassageMeta],
        vectors: Vectors,
        texts: Sequence[str],
        *,
        second: Mapping[int, Vectors] | None = None,
    ) -> None:
        """Add passages to both indexes; `texts` are what the lexical index analyses,
        `second` the second model's vectors by passage id (those that have one)."""
        with self._lock:
            if second and self._second is not None:
                doc_of = {m.passage_id: m.doc_key for m in metas}
                self._second.add({pid: (doc_of[pid], v) for pid, v in second.items()})
            keep = [m.passage_id not in self._meta for m in metas]
            fresh = [self._shared(m) for m, new in zip(metas, keep, strict=True) if new]
            if len(fresh) != len(metas):
                vectors = vectors[np.array(keep)]
            ids = np.array([m.passage_id for m in fresh], dtype=np.int64)
            self._index.add(ids, vectors)
            self._languages.add([_language(meta) for meta in fresh], vectors)
            for meta, text in zip(
                fresh, (t for t, new in zip(texts, keep, strict=True) if new), strict=True
            ):
                self._lexical.add(meta.passage_id, text)
                self._meta[meta.passage_id] = meta
                self._facets.add(meta)

    def remove(self, passage_ids: Iterable[int]) -> None:
        with self._lock:
            present = [pid for pid in passage_ids if pid in self._meta]
            ids = np.array(present, dtype=np.int64)
            languages = [_language(self._meta[pid]) for pid in present]
            self._languages.remove(languages, self._index.stored_vectors(ids))
            self._index.remove(ids)
            self._lexical.remove(present)
            if self._second is not None:
                self._second.remove(present)
            for pid in present:
                self._facets.remove(self._meta.pop(pid))

    def drop_unknown(self) -> list[int]:
        """Remove vectors that have no metadata (deleted while no reader was watching)."""
        with self._lock:
            orphans = [int(i) for i in self._index.ids() if int(i) not in self._meta]
            self._index.remove(np.array(orphans, dtype=np.int64))
            self._lexical.remove(orphans)
            if self._second is not None:
                self._second.remove(orphans)
            return orphans

    def search_passages(
        self, query: Vectors, k: int, filters: Mapping[str, FilterValue] | None = None
    ) -> list[tuple[int, float]]:
        with self._lock:
            allowed = self._facets.allowed(filters) if filters else None
            ids, scores = self._index.search(query, k, allowed)
            return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def _group(self, passages: Sequence[tuple[int, float]]) -> dict[str, list[tuple[int, float]]]:
        grouped: dict[str, list[tuple[int, float]]] = {}
        for pid, score in passages:
            meta = self._meta.get(pid)
            if meta is not None:
                grouped.setdefault(meta.doc_key, []).append((pid, score))
        return grouped

    def _dense_documents(
        self, query: Vectors, k: int, allowed: Ids | None
    ) -> dict[str, list[tuple[int, float]]]:
        """Passages fetched in growing rounds until k documents (or everything) are found."""
        total = len(self._index)
        fetch = max(4 * k, 32)
        while True:
            ids, scores = self._index.search(query, fetch, allowed)
            grouped = self._group([(int(i), float(s)) for i, s in zip(ids, scores, strict=True)])
            if len(grouped) >= k or len(ids) < fetch or fetch >= total:
                return grouped
            fetch *= 4

    def _lexical_documents(
        self, text: str, k: int, allowed: Ids | None
    ) -> dict[str, list[tuple[int, float]]]:
        total = len(self._lexical)
        fetch = max(4 * k, 32)
        while True:
            passages = self._lexical.search(text, fetch, allowed)
            grouped = self._group(passages)
            if len(grouped) >= k or len(passages) < fetch or fetch >= total:
                return grouped
            fetch *= 4

    def search_documents(
        self,
        query: Vectors | None,
        k: int,
        filters: Mapping[str, FilterValue] | None = None,
        *,
        text: str | None = None,
        system: System = "dense",
        second_query: Vectors | None = None,
    ) -> list[DocumentHit]:
        """The k best documents for a query, each scored by its best passage.

        `system` picks the ranking: `dense` (embeddings), `bm25` (lexical), `hybrid` (both,
        fused by confidence) or `rrf` (both, reciprocal rank fusion). Filters apply inside
        each retriever, before anything is cut to k. `second_query`, the query by the second
        model (given for an English query), adds that model's standing to `hybrid`.
        """
        with self._lock:
            allowed = self._facets.allowed(filters) if filters else None
            dense: dict[str, list[tuple[int, float]]] = {}
            lexical: dict[str, list[tuple[int, float]]] = {}
            depth = k if system in ("dense", "bm25") else max(k, FUSION_CANDIDATES)
            if system != "bm25":
                if query is None:
                    raise ValueError(f"system {system} needs a query vector")
                dense = self._dense_documents(query, depth, allowed)
            if system != "dense":
                if text is None:
                    raise ValueError(f"system {system} needs the query text")
                lexical = self._lexical_documents(text, depth, allowed)
            coverage = self._lexical.coverage(text) if system == "hybrid" and text else 0.0
            groups = len(self._lexical.weighted_query(text)) if system == "hybrid" and text else 0
            centre = system == "hybrid" and self.weights.centre_languages and query is not None
            offsets = self._languages.offsets(query) if centre and query is not None else {}
        dense_ranked = _ranked(dense)
        if offsets:
            dense_ranked = self._centred(dense_ranked, offsets)
        lexical_ranked = _ranked(lexical)
        second = None
        if system == "hybrid" and second_query is not None and self._second is not None:
            candidates = [r.doc_key for r in dense_ranked[:depth] + lexical_ranked[:depth]]
            second = self._second.cosines(second_query, list(dict.fromkeys(candidates)))
        if system == "dense":
            order, scores = (
                [r.doc_key for r in dense_ranked],
                {r.doc_key: r.score for r in dense_ranked},
            )
        elif system == "bm25":
            order, scores = (
                [r.doc_key for r in lexical_ranked],
                {r.doc_key: r.score for r in lexical_ranked},
            )
        else:
            scores = (
                reciprocal_rank_fusion([dense_ranked, lexical_ranked])
                if system == "rrf"
                else confidence_fusion(
                    dense_ranked,
                    lexical_ranked,
                    coverage=coverage,
                    weights=self.weights,
                    candidates=depth,
                    groups=groups,
                    languages=self._languages_of(lexical_ranked[:depth])
                    if offsets and self.weights.lexical_by_language
                    else None,
                    second=second,
                )
            )
            order = ranked_keys(scores)
        hits = []
        for doc_key in order[:k]:
            members = dense.get(doc_key) or lexical[doc_key]
            passage_ids = {pid for pid, _ in dense.get(doc_key, [])} | {
                pid for pid, _ in lexical.get(doc_key, [])
            }
            hits.append(
                DocumentHit(
                    doc_key=doc_key,
                    score=scores[doc_key],
                    best_passage_id=members[0][0],
                    passage_ids=tuple(sorted(passage_ids)),
                )
            )
        return hits

    def _languages_of(self, ranked: Sequence[Ranked]) -> dict[str, str]:
        languages = {}
        for item in ranked:
            meta = self._meta.get(item.best_passage_id)
            languages[item.doc_key] = _language(meta) if meta is not None else ""
        return languages

    def _centred(self, ranked: Sequence[Ranked], offsets: Mapping[str, float]) -> list[Ranked]:
        """Cosines less the query's closeness to their passage's language (language_offset)."""
        centred = []
        for item in ranked:
            meta = self._meta.get(item.best_passage_id)
            offset = offsets.get(_language(meta), 0.0) if meta is not None else 0.0
            centred.append(Ranked(item.doc_key, item.score - offset, item.best_passage_id))
        centred.sort(key=lambda item: item.score, reverse=True)
        return centred


def _language(meta: PassageMeta) -> str:
    return meta.facets.get("language", "")


def _ranked(grouped: Mapping[str, list[tuple[int, float]]]) -> list[Ranked]:
    ranked = [Ranked(doc_key, members[0][1], members[0][0]) for doc_key, members in grouped.items()]
    ranked.sort(key=lambda item: item.score, reverse=True)
    return ranked
