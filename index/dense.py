"""FAISS vector index keyed by passage id: exact for small collections, HNSW for large."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

from index.embedder import Vectors

Ids = npt.NDArray[np.int64]
IndexKind = Literal["flat", "hnsw"]

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# Chosen at one million passages (bench/million.py, docs/BENCHMARKS.md): recall@10 against
# exact search 0.88 at 96, 0.947 at 384, 0.957 at 512 (p95 8.8 ms on one thread), 0.969 at
# 768 (13 ms). The index is HNSW only above `index_exact_max_vectors` (200k), where 96 is
# too few; below it the search is exact and this does not apply.
HNSW_EF_SEARCH = 512
# Up to this many allowed vectors, an HNSW search under a filter scores them exactly: a
# graph walk that may only stop at a few percent of its nodes runs out of candidates and
# returns fewer than k hits (measured: half the queries short for a 171-passage filter at
# 100k). Measured at 100k vectors, top-100: scoring the allowed vectors directly takes
# 1.2 ms for 5k, 5 ms for 20k; the graph walk with a raised efSearch 4 ms at any share,
# with recall@100 0.88 at 1k allowed and 0.99+ from 5k on: below 20k, exact wins both ways.
HNSW_EXACT_FILTER_MAX = 20_000
# Above that, the walk's candidate list grows with the share of the index filtered away.
HNSW_EF_SEARCH_MAX = 1024


def limit_faiss_threads() -> None:
    """Run this thread's FAISS searches on one OpenMP thread.

    One query at a time gains nothing from OpenMP, and its spinning threads compete with
    torch's for the same cores; on 2 shared cores that made searches slower, not faster.
    The OpenMP setting belongs to the calling thread (requests run on a pool of threads,
    and threadpoolctl restores it after a training), so every search sets it; it costs a
    thread-local write.
    """
    faiss.omp_set_num_threads(1)


class _BitmapSelector:
    """A FAISS bitmap over ids: O(1) membership, and it owns the bits FAISS points into.

    Measured at 100k vectors: building it and searching takes about half the time of
    IDSelectorBatch, whose hash set is rebuilt for every query.
    """

    def __init__(self, ids: Ids) -> None:
        size = int(ids.max()) + 1 if len(ids) else 1
        mask = np.zeros(size, dtype=bool)
        mask[ids] = True
        self.bits = np.packbits(mask, bitorder="little")
        # FAISS takes the bitmap's length in bytes; given bits, it reads past the array and
        # ids above the largest allowed one pass at random.
        self.faiss_selector = faiss.IDSelectorBitmap(len(self.bits), faiss.swig_ptr(self.bits))


def choose_kind(vector_count: int, exact_max_vectors: int) -> IndexKind:
    """Exact search up to the configured size; approximate above it."""
    return "flat" if vector_count <= exact_max_vectors else "hnsw"


class DenseIndex:
    """Inner-product search over normalised vectors, with ids chosen by the caller.

    Ids are never reused by the database, so an update is a removal plus an addition.
    HNSW graphs cannot drop nodes; there a removal is a tombstone that searches skip.
    """

    def __init__(self, dim: int, kind: IndexKind = "flat", *, faiss_index: Any = None) -> None:
        self.dim = dim
        self.kind: IndexKind = kind
        if faiss_index is None:
            if kind == "flat":
                inner: Any = faiss.IndexFlatIP(dim)
            else:
                inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            faiss_index = faiss.IndexIDMap2(inner)
        self._index: Any = faiss_index
        self._tombstones: set[int] = set()
        self._labels_cache: tuple[Ids, Ids, Ids] | None = None

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._tombstones)

    @property
    def tombstones(self) -> int:
        return len(self._tombstones)

    def ids(self) -> Ids:
        """Live ids in the index."""
        all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        if not self._tombstones:
            return all_ids
        dead = np.fromiter(self._tombstones, dtype=np.int64)
        return all_ids[~np.isin(all_ids, dead)]

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of dimension {self.dim}")
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self._labels_cache = None

    def remove(self, ids: Ids) -> None:
        if len(ids) == 0:
            return
        self._labels_cache = None
        if self.kind == "flat":
            self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))
        else:
            self._tombstones.update(int(i) for i in ids)

    def search(
        self, query: Vectors, k: int, allowed_ids: Ids | None = None
    ) -> tuple[Ids, npt.NDArray[np.float32]]:
        """Top-k ids and scores for one query vector, restricted to `allowed_ids` if given."""
        if k <= 0 or self._index.ntotal == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if allowed_ids is not None and len(allowed_ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.kind == "hnsw" and allowed_ids is not None:
            allowed_ids = self._without_tombstones(allowed_ids)
            if len(allowed_ids) <= HNSW_EXACT_FILTER_MAX:
                return self._search_subset(query, k, allowed_ids)
        # `owner` keeps a bitmap's bits alive while FAISS reads them.
        owner = self._selector(allowed_ids)
        selector = owner.faiss_selector if isinstance(owner, _BitmapSelector) else owner
        k = min(k, int(self._index.ntotal))
        if self.kind == "flat":
            # faiss's bundled stubs lag behind its SWIG classes, hence the ignores.
            params: Any = (
                faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
                if selector is not None
                else None
            )
        else:
            ef_search = max(HNSW_EF_SEARCH, 2 * k)
            if allowed_ids is not None:
                share = len(allowed_ids) / max(int(self._index.ntotal), 1)
                ef_search = min(
                    max(ef_search, int(ef_search / max(share, 1e-6))), HNSW_EF_SEARCH_MAX
                )
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                efSearch=ef_search
            )
            if selector is not None:
                params.sel = selector
        limit_faiss_threads()
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def _without_tombstones(self, ids: Ids) -> Ids:
        if not self._tombstones:
            return ids
        dead = np.fromiter(self._tombstones, dtype=np.int64)
        return ids[~np.isin(ids, dead)]

    def _labels(self) -> tuple[Ids, Ids, Ids]:
        """Ids in storage order, the same ids ascending, and the storage position of each."""
        if self._labels_cache is None:
            labels = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            order = np.argsort(labels, kind="stable").astype(np.int64)
            self._labels_cache = (labels, labels[order], order)
        return self._labels_cache

    def _stored(self) -> Vectors:
        """The raw vectors FAISS holds, as a view (valid until the next add)."""
        inner: Any = faiss.downcast_index(self._index.index)
        storage: Any = faiss.downcast_index(inner.storage) if self.kind == "hnsw" else inner
        total = int(storage.ntotal)
        flat: Vectors = faiss.rev_swig_ptr(storage.get_xb(), total * self.dim)
        return flat.reshape(total, self.dim)

    def _search_subset(
        self, query: Vectors, k: int, allowed_ids: Ids
    ) -> tuple[Ids, npt.NDArray[np.float32]]:
        """Exact top-k among `allowed_ids` (live ids only), by scoring each of them.

        `einsum`, not `@`: the matrix product goes through OpenBLAS, whose own thread pool
        took 8 ms per call beside FAISS and torch on 2 cores; einsum's single-threaded loop
        takes 0.2 ms for 5k vectors (plus 0.5 ms to gather them).
        """
        labels, sorted_labels, positions = self._labels()
        if len(labels) == 0 or len(allowed_ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        where = np.minimum(np.searchsorted(sorted_labels, allowed_ids), len(labels) - 1)
        found = sorted_labels[where] == allowed_ids
        rows = positions[where[found]]
        scores = np.einsum("ij,j->i", self._stored()[rows], query.reshape(-1).astype(np.float32))
        ids = labels[rows]
        if len(ids) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            ids, scores = ids[top], scores[top]
        order = np.argsort(-scores, kind="stable")
        return ids[order], scores[order].astype(np.float32)

    def _selector(self, allowed_ids: Ids | None) -> Any:
        if allowed_ids is not None:
            return _BitmapSelector(self._without_tombstones(allowed_ids))
        if self._tombstones:
            dead = np.fromiter(self._tombstones, dtype=np.int64)
            return faiss.IDSelectorNot(faiss.IDSelectorBatch(dead))
        return None

    def save(self, path: Path) -> None:
        """Write the index to `path`; tombstoned vectors are dropped first."""
        if self._tombstones:
            self.compact()
        faiss.write_index(self._index, str(path))

    def compact(self) -> None:
        """Rebuild without tombstones (HNSW only keeps them)."""
        if not self._tombstones:
            return
        live = self.ids()
        vectors = self.vectors(live)
        rebuilt = DenseIndex(self.dim, self.kind)
        rebuilt.add(live, vectors)
        self._index = rebuilt._index
        self._tombstones = set()
        self._labels_cache = None

    def vectors(self, ids: Ids) -> Vectors:
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def stored_vectors(self, ids: Ids) -> Vectors:
        """`vectors(ids)` read from storage in one step: at 100k ids the reconstruct loop
        took seconds. Falls back to it unless every id is stored exactly once."""
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        _, ascending, order = self._labels()
        if len(ascending) == 0 or bool(np.any(ascending[1:] == ascending[:-1])):
            return self.vectors(ids)
        positions = np.minimum(np.searchsorted(ascending, ids), len(ascending) - 1)
        if not bool(np.all(ascending[positions] == ids)):
            return self.vectors(ids)
        rows: Vectors = np.array(self._stored()[order[positions]], dtype=np.float32)
        return rows

    @classmethod
    def load(cls, path: Path, kind: IndexKind) -> DenseIndex:
        raw = faiss.read_index(str(path))
        return cls(int(raw.d), kind, faiss_index=raw)

    @classmethod
    def build(cls, ids: Ids, vectors: Vectors, *, dim: int, exact_max_vectors: int) -> DenseIndex:
        index = cls(dim, choose_kind(len(ids), exact_max_vectors))
        index.add(ids, vectors)
        return index
