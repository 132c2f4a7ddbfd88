"""A query's closeness to every text of its own language is removed before fusion."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from index.dense import DenseIndex
from index.language_offset import MIN_PASSAGES, LanguageCentroids
from index.searcher import PassageMeta, Searcher

DIM = 16
CAMERA, MICROPHONE, GERMAN, ENGLISH = 0, 1, 2, 3


def _unit(values: np.ndarray) -> np.ndarray:
    unit: np.ndarray = (values / np.linalg.norm(values)).astype(np.float32)
    return unit


def _vector(**axes: float) -> np.ndarray:
    values = np.zeros(DIM)
    for name, weight in axes.items():
        values[globals()[name.upper()]] = weight
    return _unit(values)


def _filler(rng: np.random.Generator, language_axis: int, count: int) -> list[np.ndarray]:
    """Passages about other things (axes 4 and up), each carrying its language's direction."""
    rows = []
    for _ in range(count):
        values = np.zeros(DIM)
        values[4:] = rng.normal(size=DIM - 4)
        values[4:] /= np.linalg.norm(values[4:])
        values[language_axis] = 0.5
        rows.append(_unit(values))
    return rows


def _knowledge_base() -> Searcher:
    """40 German and 40 English passages on other topics, a German ticket about the
    microphone that shares the query's language, and the English camera article."""
    rng = np.random.default_rng(7)
    vectors = [
        _vector(camera=0.6, microphone=0.6, german=0.6),
        _vector(camera=1.0, english=0.6),
        *_filler(rng, GERMAN, 40),
        *_filler(rng, ENGLISH, 40),
    ]
    languages = ["de", "en"] + ["de"] * 40 + ["en"] * 40
    keys = ["ticket:microphone", "article:camera"] + [f"ticket:{i}" for i in range(80)]
    metas = [
        PassageMeta(i + 1, key, {"language": language})
        for i, (key, language) in enumerate(zip(keys, languages, strict=True))
    ]
    searcher = Searcher(DenseIndex(DIM))
    searcher.add(metas, np.vstack(vectors), ["unrelated words"] * len(metas))
    return searcher


GERMAN_CAMERA_QUERY = _vector(camera=1.0, german=0.6)


def _first(searcher: Searcher, *, centre: bool, system: str = "hybrid") -> str:
    searcher.weights = dataclasses.replace(searcher.weights, centre_languages=centre)
    hits = searcher.search_documents(
        GERMAN_CAMERA_QUERY,
        3,
        text="Kamera",
        system=system,  # type: ignore[arg-type]
    )
    return hits[0].doc_key


def test_the_other_languages_answer_wins_once_the_language_offset_is_removed() -> None:
    searcher = _knowledge_base()
    # Raw cosines: the microphone ticket is nearer only for sharing the query's language.
    assert _first(searcher, centre=False) == "ticket:microphone"
    assert _first(searcher, centre=True) == "article:camera"
    # Dense search alone (and the thresholds that read its cosines) is left as it is.
    assert _first(searcher, centre=True, system="dense") == "ticket:microphone"


def test_offsets_are_the_mean_cosine_of_each_language_against_all() -> None:
    rng = np.random.default_rng(3)
    german = np.vstack(_filler(rng, GERMAN, MIN_PASSAGES))
    english = np.vstack(_filler(rng, ENGLISH, MIN_PASSAGES + 5))
    centroids = LanguageCentroids(DIM)
    centroids.add(["de"] * len(german), german)
    centroids.add(["en"] * len(english), english)
    query = GERMAN_CAMERA_QUERY
    offsets = centroids.offsets(query)
    overall = float(np.vstack([german, english]).mean(axis=0) @ query)
    assert offsets["de"] == pytest.approx(float(german.mean(axis=0) @ query) - overall)
    assert offsets["en"] == pytest.approx(float(english.mean(axis=0) @ query) - overall)
    assert offsets["de"] > 0 > offsets["en"]


def test_no_offset_without_two_languages_of_enough_passages() -> None:
    rng = np.random.default_rng(5)
    centroids = LanguageCentroids(DIM)
    german = np.vstack(_filler(rng, GERMAN, 40))
    centroids.add(["de"] * 40, german)
    assert centroids.offsets(GERMAN_CAMERA_QUERY) == {}
    few = np.vstack(_filler(rng, ENGLISH, MIN_PASSAGES - 1))
    centroids.add(["en"] * len(few), few)
    assert centroids.offsets(GERMAN_CAMERA_QUERY) == {}
    one_more = np.vstack(_filler(rng, ENGLISH, 1))
    centroids.add(["en"], one_more)
    assert set(centroids.offsets(GERMAN_CAMERA_QUERY)) == {"de", "en"}
    centroids.remove(["en"], one_more)
    assert centroids.offsets(GERMAN_CAMERA_QUERY) == {}
    assert centroids.count("en") == MIN_PASSAGES - 1
    # Passages of unknown language are no language of their own.
    unknown = np.vstack(_filler(rng, ENGLISH, 40))
    centroids.add([""] * 40, unknown)
    assert centroids.offsets(GERMAN_CAMERA_QUERY) == {}


def test_the_searcher_keeps_its_sums_through_removes_and_reloaded_metadata() -> None:
    searcher = _knowledge_base()
    before = searcher._languages.offsets(GERMAN_CAMERA_QUERY)
    searcher.remove([1, 2])
    assert searcher._languages.count("de") == 40
    assert searcher._languages.count("en") == 40
    # A snapshot is loaded as vectors first and metadata after (open_searcher).
    reloaded = Searcher(searcher.index)
    reloaded.set_metadata(
        [
            PassageMeta(pid, f"ticket:{pid}", {"language": "de" if pid <= 42 else "en"})
            for pid in range(3, 83)
        ]
    )
    assert reloaded._languages.offsets(GERMAN_CAMERA_QUERY) == pytest.approx(
        searcher._languages.offsets(GERMAN_CAMERA_QUERY)
    )
    assert before["de"] > 0


def test_bm25_counts_within_each_language_only_in_an_index_of_two() -> None:
    # Two passages equally near the query; the German one shares "geht nicht" with the
    # query (and with ten other German passages), the English one matches "Teams" and the
    # cognate "camera", all an English text can share with a German query.
    rng = np.random.default_rng(11)
    metas = [
        PassageMeta(1, "ticket:de", {"language": "de"}),
        PassageMeta(2, "article:en", {"language": "en"}),
    ]
    vectors = [_vector(camera=1.0), _vector(camera=1.0)]
    texts = ["Teams Mikrofon geht nicht", "Teams camera not working"]
    for i, row in enumerate(_filler(rng, GERMAN, 40) + _filler(rng, ENGLISH, 40)):
        language = "de" if i < 40 else "en"
        metas.append(PassageMeta(3 + i, f"ticket:{i}", {"language": language}))
        vectors.append(row)
        texts.append(("Drucker geht nicht" if i < 10 else "Drucker") if i < 40 else "printer")
    searcher = Searcher(DenseIndex(DIM))
    searcher.add(metas, np.vstack(vectors), texts)

    def first() -> str:
        hits = searcher.search_documents(
            _vector(camera=1.0), 2, text="Teams Kamera geht nicht", system="hybrid"
        )
        return hits[0].doc_key

    assert first() == "article:en"
    searcher.weights = dataclasses.replace(searcher.weights, lexical_by_language=False)
    assert first() == "ticket:de"
