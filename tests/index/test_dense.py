"""The FAISS wrapper: exact and HNSW, removal, filters inside the search."""

from __future__ import annotations

import numpy as np
import pytest

from index.dense import DenseIndex, IndexKind, choose_kind


def _vectors(count: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, dim)).astype(np.float32)
    normalised: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normalised


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_search_finds_the_vector_itself(kind: IndexKind) -> None:
    vectors = _vectors(200)
    index = DenseIndex(16, kind)
    index.add(np.arange(1000, 1200, dtype=np.int64), vectors)
    ids, scores = index.search(vectors[7], 3)
    assert ids[0] == 1007
    assert scores[0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_removed_ids_are_never_returned(kind: IndexKind) -> None:
    vectors = _vectors(50)
    index = DenseIndex(16, kind)
    index.add(np.arange(50, dtype=np.int64), vectors)
    index.remove(np.array([7], dtype=np.int64))
    ids, _ = index.search(vectors[7], 50)
    assert 7 not in ids
    assert len(index) == 49
    assert 7 not in index.ids()


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_allowed_ids_restrict_before_k(kind: IndexKind) -> None:
    vectors = _vectors(300)
    index = DenseIndex(16, kind)
    index.add(np.arange(300, dtype=np.int64), vectors)
    allowed = np.array([5, 150, 299], dtype=np.int64)
    ids, _ = index.search(vectors[0], 3, allowed)
    assert sorted(ids.tolist()) == [5, 150, 299]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_ids_above_the_largest_allowed_one_never_pass_the_filter(kind: IndexKind) -> None:
    # Regression: the bitmap's length was given in bits where FAISS expects bytes, so ids
    # above the largest allowed one were read from past the bitmap and leaked through.
    vectors = _vectors(400)
    index = DenseIndex(16, kind)
    index.add(np.arange(400, dtype=np.int64), vectors)
    allowed = np.array([3, 9], dtype=np.int64)
    for query in (vectors[200], vectors[399], vectors[12]):
        ids, _ = index.search(query, 10, allowed)
        assert sorted(ids.tolist()) == [3, 9]


def test_hnsw_compacts_tombstones_on_save(tmp_path: pytest.TempPathFactory) -> None:
    vectors = _vectors(40)
    index = DenseIndex(16, "hnsw")
    index.add(np.arange(40, dtype=np.int64), vectors)
    index.remove(np.arange(10, dtype=np.int64))
    assert index.tombstones == 10
    index.compact()
    assert index.tombstones == 0
    assert sorted(index.ids().tolist()) == list(range(10, 40))


def test_kind_follows_collection_size() -> None:
    assert choose_kind(1000, exact_max_vectors=200_000) == "flat"
    assert choose_kind(300_000, exact_max_vectors=200_000) == "hnsw"


def test_wrong_dimension_is_refused() -> None:
    index = DenseIndex(16)
    with pytest.raises(ValueError, match="dimension"):
        index.add(np.array([1], dtype=np.int64), _vectors(1, dim=8))


def test_hnsw_with_a_selective_filter_returns_the_exact_top_k() -> None:
    vectors = _vectors(3000, seed=3)
    ids = np.arange(1, 3001, dtype=np.int64)
    index = DenseIndex(16, "hnsw")
    index.add(ids, vectors)
    allowed = ids[::150]  # 20 of 3000: a graph walk alone finds few of them
    index.remove(allowed[:2])
    query = vectors[1234]
    found, scores = index.search(query, 10, allowed)
    live = allowed[2:]
    exact = live[np.argsort(-(vectors[live - 1] @ query))][:10]
    assert found.tolist() == exact.tolist()
    assert scores == pytest.approx(np.sort(vectors[live - 1] @ query)[::-1][:10], abs=1e-5)


def test_hnsw_subset_search_sees_vectors_added_later() -> None:
    vectors = _vectors(300, seed=4)
    index = DenseIndex(16, "hnsw")
    index.add(np.arange(1, 201, dtype=np.int64), vectors[:200])
    allowed = np.array([5, 250], dtype=np.int64)
    assert index.search(vectors[249], 2, allowed)[0].tolist() == [5]
    index.add(np.arange(201, 301, dtype=np.int64), vectors[200:])
    assert index.search(vectors[249], 2, allowed)[0].tolist() == [250, 5]


def test_searches_run_faiss_on_one_thread_in_any_thread() -> None:
    import threading

    import faiss

    index = DenseIndex(4)
    index.add(np.arange(3, dtype=np.int64), _vectors(3, dim=4))
    seen: list[int] = []

    def search_in_a_fresh_thread() -> None:
        faiss.omp_set_num_threads(2)  # what a new request thread or threadpoolctl leaves
        index.search(_vectors(1, dim=4)[0], 1)
        seen.append(faiss.omp_get_max_threads())

    worker = threading.Thread(target=search_in_a_fresh_thread)
    worker.start()
    worker.join()
    assert seen == [1]
