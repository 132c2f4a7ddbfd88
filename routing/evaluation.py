"""`stellwerk eval routing`: train the router and a TF-IDF baseline, score both on new tickets."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from index.embedder import Embedder, Vectors
from routing.charters import read_charter
from routing.cold_start import CharterIndex, charter_for_routing, charter_probabilities
from routing.config import RoutingConfig
from routing.dataset import LabelledTicket, near_duplicate_clusters, split_by_cluster
from routing.features import embed_tickets
from routing.memory import TicketMemory, neighbour_vote
from routing.metrics import Matrix, routing_report
from routing.model import TeamClassifier, calibration_report
from routing.vector_cache import VectorCache

BASELINE_FOLDS = 5


def _matrix(rows: Sequence[dict[str, float]], teams: Sequence[str]) -> Matrix:
    return np.array([[row.get(team, 0.0) for team in teams] for row in rows], dtype=np.float64)


def _softmax(margins: Matrix) -> Matrix:
    shifted = np.exp(margins - margins.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float64)


def baseline_folds(train_teams: Sequence[str]) -> int:
    """Calibration folds: at most 5, at most the smallest team that has two tickets or more.

    Teams with a single ticket do not lower it (one ticket cannot be split); they are
    calibrated in the folds that train on them. 0 when fewer than two teams have two
    tickets: then no fold could train and calibrate, and the margins are used as they are.
    """
    counts = np.unique(np.asarray(train_teams), return_counts=True)[1]
    splittable = counts[counts >= 2]
    if len(splittable) < 2:
        return 0
    return int(min(BASELINE_FOLDS, splittable.min()))


def baseline_confidence(train_teams: Sequence[str]) -> str:
    """How the baseline's probabilities were made, for the report."""
    folds = baseline_folds(train_teams)
    if folds == 0:
        return "softmax of LinearSVC margins (uncalibrated: fewer than two teams with 2 tickets)"
    counts = np.unique(np.asarray(train_teams), return_counts=True)[1]
    rare = int((counts < folds).sum())
    text = f"CalibratedClassifierCV(LinearSVC, method='sigmoid', cv={folds})"
    if rare:
        text += f"; {rare} team(s) with fewer tickets calibrated in the folds that train on them"
    return text


def tfidf_svm_probabilities(
    train_texts: Sequence[str], train_teams: Sequence[str], test_texts: Sequence[str]
) -> tuple[Matrix, list[str]]:
    """The baseline: word uni+bigram TF-IDF and a LinearSVC, calibrated with Platt scaling.

    Long-tailed histories have teams with one ticket, which k-fold calibration refuses
    outright; such teams are placed in stratified folds as far as they go (see
    `baseline_folds`), so they get a column and the other teams keep their calibration.
    """
    import warnings

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    features = vectorizer.fit_transform(list(train_texts))
    test_features = vectorizer.transform(list(test_texts))
    labels = list(train_teams)
    folds = baseline_folds(labels)
    if folds == 0:
        svm = LinearSVC(random_state=0).fit(features, labels)
        margins = np.asarray(svm.decision_function(test_features), dtype=np.float64)
        if margins.ndim == 1:
            margins = np.column_stack([-margins, margins])
        return _softmax(margins), [str(t) for t in svm.classes_]
    with warnings.catch_warnings():
        # "The least populated class has only 1 member": expected, see the docstring.
        warnings.simplefilter("ignore", UserWarning)
        splits = list(StratifiedKFold(n_splits=folds).split(features, labels))
    # The folds `cv=folds` would make (unshuffled), given as a list: then the calibration
    # no longer insists on `folds` tickets for every team.
    model = CalibratedClassifierCV(LinearSVC(random_state=0), method="sigmoid", cv=splits)
    model.fit(features, labels)
    probabilities = model.predict_proba(test_features)
    return np.asarray(probabilities, dtype=np.float64), [str(t) for t in model.classes_]


def vote_probabilities(
    train_vectors: Vectors,
    train_teams: Sequence[str],
    test_vectors: Vectors,
    config: RoutingConfig,
) -> Matrix:
    """The router's second stage alone: similarity-weighted vote of the nearest tickets."""
    memory = TicketMemory(
        ticket_ids=[None] * len(train_teams),
        external_ids=[""] * len(train_teams),
        titles=[""] * len(train_teams),
        teams=list(train_teams),
        vectors=train_vectors,
    )
    teams = sorted(set(train_teams))
    rows = [
        neighbour_vote(
            memory.nearest(vector, config.neighbours),
            {},
            temperature=config.vote_temperature,
            charter_weight=config.charter_weight,
        )
        for vector in test_vectors
    ]
    return _matrix(rows, teams)


def charters_from_folder(folder: Path, embedder: Embedder) -> CharterIndex:
    """Team charters (`kind: team`) of an articles folder, embedded with the given model."""
    from ingest.pipeline import read_article_dir

    charters = [
        charter_for_routing(
            read_charter(
                team=parsed.meta.team,
                slug=parsed.slug,
                title=parsed.meta.title,
                body=parsed.body,
                front_matter=parsed.front_matter,
                tags=parsed.meta.tags,
            )
        )
        for parsed in read_article_dir(folder)
        if parsed.meta.kind == "team" and parsed.meta.team
    ]
    return CharterIndex.build(charters, embedder)


def _reports(
    probabilities: Matrix,
    teams: Sequence[str],
    test: Sequence[LabelledTicket],
    by_language: bool,
) -> dict[str, Any]:
    truth = [t.team for t in test]
    report = routing_report(probabilities, teams, truth)
    if by_language:
        languages: dict[str, Any] = {}
        for language in sorted({t.language for t in test}):
            rows = [i for i, t in enumerate(test) if t.language == language]
            languages[language] = routing_report(
                probabilities[rows], teams, [truth[i] for i in rows]
            )
        report["by_language"] = languages
    return report


def ticket_encoder(
    model: Embedder, cache: VectorCache | None, config: RoutingConfig, show_progress: bool
) -> Callable[[Sequence[LabelledTicket]], Vectors]:
    """Tickets to `model`'s vectors as the router reads them (passages averaged)."""

    def run(tickets: Sequence[LabelledTicket]) -> Vectors:
        return embed_tickets(
            model,
            [t.text for t in tickets],
            max_words=config.max_words,
            show_progress=show_progress,
            cache=cache,
        )

    return run


def evaluate_routing(
    train: Sequence[LabelledTicket],
    test: Sequence[LabelledTicket],
    embedder: Embedder,
    *,
    config: RoutingConfig | None = None,
    charters_folder: Path | None = None,
    by_language: bool = False,
    show_progress: bool = False,
    encode: Callable[[Sequence[LabelledTicket]], Vectors] | None = None,
    cache_dir: Path | None = None,
    second: Embedder | None = None,
    encode_second: Callable[[Sequence[LabelledTicket]], Vectors] | None = None,
) -> dict[str, Any]:
    """Every system on the same split.

    `cache_dir` keeps ticket vectors on disk between runs (see `VectorCache`); `encode`
    and `encode_second` replace the two models' encoding (the cluster splits pass vectors
    they already have). `second` is the router's second embedding model, read by its
    classifier.
    """
    config = config or RoutingConfig()
    cache = (
        VectorCache(cache_dir, embedder.model_id, embedder.dim)
        if cache_dir and encode is None
        else None
    )
    second_cache = (
        VectorCache(cache_dir, second.model_id, second.dim)
        if cache_dir and second and encode_second is None
        else None
    )

    encode = encode or ticket_encoder(embedder, cache, config, show_progress)
    if encode_second is None and second is not None:
        encode_second = ticket_encoder(second, second_cache, config, show_progress)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    test_vectors = encode(test)
    train_vectors = encode(train) if train else np.zeros((0, embedder.dim), dtype=np.float32)
    seconds["encode"] = time.perf_counter() - started
    started = time.perf_counter()
    test_second = train_second = None
    if encode_second is not None:
        test_second = encode_second(test) if test else None
        train_second = encode_second(train) if train else None
        seconds["encode_second"] = time.perf_counter() - started
    systems: dict[str, Any] = {}
    train_teams = [t.team for t in train]
    test_texts = [t.text.lexical for t in test]
    if len(set(train_teams)) >= 2:
        started = time.perf_counter()
        classifier = TeamClassifier(config.classifier).fit(
            [t.text.lexical for t in train], train_vectors, train_teams, second=train_second
        )
        probabilities = classifier.predict_proba(test_texts, test_vectors, second=test_second)
        seconds["stellwerk"] = time.perf_counter() - started
        systems["stellwerk"] = _reports(probabilities, classifier.teams, test, by_language)
        systems["stellwerk"]["learners"] = list(classifier.learners)
        if classifier.learner_choice:
            systems["stellwerk"]["learner_choice"] = classifier.learner_choice
        systems["stellwerk"]["model_choice"] = classifier.model_choice
        systems["stellwerk"]["calibration"] = calibration_report(classifier)

        started = time.perf_counter()
        baseline, teams = tfidf_svm_probabilities(
            [t.text.lexical for t in train], train_teams, test_texts
        )
        seconds["tfidf_svm"] = time.perf_counter() - started
        systems["tfidf_svm"] = _reports(baseline, teams, test, by_language)
        systems["tfidf_svm"]["confidence_from"] = baseline_confidence(train_teams)

        votes = vote_probabilities(train_vectors, train_teams, test_vectors, config)
        systems["ticket_vote"] = _reports(votes, sorted(set(train_teams)), test, by_language)
    if charters_folder is not None:
        charter_index = charters_from_folder(charters_folder, embedder)
        rows = [
            charter_probabilities(charter_index, v, temperature=config.charter_temperature)
            for v in test_vectors
        ]
        systems["charters"] = _reports(
            _matrix(rows, charter_index.teams), charter_index.teams, test, by_language
        )
    result = {
        "model_id": embedder.model_id,
        "second_model_id": second.model_id if second is not None else None,
        "train": len(train),
        "test": len(test),
        "teams": sorted({t.team for t in (*train, *test)}),
        "systems": systems,
        "seconds": {name: round(value, 1) for name, value in seconds.items()},
        "classifier_config": asdict(config.classifier),
    }
    if cache is not None:
        result["vector_cache"] = _cache_report(cache)
    if second_cache is not None:
        result["second_vector_cache"] = _cache_report(second_cache)
    return result


def _cache_report(cache: VectorCache) -> dict[str, Any]:
    return {"folder": str(cache.folder), "cached": cache.hits, "encoded": cache.misses}


def evaluate_cluster_split(
    tickets: Sequence[LabelledTicket],
    embedder: Embedder,
    *,
    threshold: float,
    test_fraction: float,
    seed: int,
    splits: int = 1,
    config: RoutingConfig | None = None,
    charters_folder: Path | None = None,
    by_language: bool = False,
    show_progress: bool = False,
    cache_dir: Path | None = None,
    second: Embedder | None = None,
) -> dict[str, Any]:
    """Hold out whole near-duplicate clusters, for sets padded with paraphrases.

    A random split of such a set puts a paraphrase of a test ticket into the training set
    and measures recall of the paraphrase, not routing. With `splits` > 1 the clusters are
    drawn onto the test side `splits` times (seeds `seed`, `seed` + 1, ...): the result is
    the first split's, with `over_splits` beside it (`over_splits`); the tickets are
    encoded once.
    """
    config = config or RoutingConfig()
    cache = VectorCache(cache_dir, embedder.model_id, embedder.dim) if cache_dir else None
    vectors = ticket_encoder(embedder, cache, config, show_progress)(tickets)
    second_cache = (
        VectorCache(cache_dir, second.model_id, second.dim) if cache_dir and second else None
    )
    second_vectors = (
        ticket_encoder(second, second_cache, config, show_progress)(tickets)
        if second is not None
        else None
    )
    clusters = near_duplicate_clusters(vectors, threshold)
    position = {id(ticket): row for row, ticket in enumerate(tickets)}

    def lookup(matrix: Vectors) -> Callable[[Sequence[LabelledTicket]], Vectors]:
        return lambda subset: matrix[[position[id(ticket)] for ticket in subset]]

    results = []
    seeds = list(range(seed, seed + max(1, splits)))
    for split_seed in seeds:
        train_rows, test_rows = split_by_cluster(
            clusters, test_fraction=test_fraction, seed=split_seed
        )
        results.append(
            evaluate_routing(
                [tickets[i] for i in train_rows],
                [tickets[i] for i in test_rows],
                embedder,
                config=config,
                charters_folder=charters_folder,
                by_language=by_language,
                show_progress=show_progress,
                encode=lookup(vectors),
                second=second,
                encode_second=lookup(second_vectors) if second_vectors is not None else None,
            )
        )
    result = results[0]
    result["split"] = {
        "by": "near-duplicate cluster (connected components of cosine > threshold)",
        "cluster_threshold": threshold,
        "clusters": len(set(clusters)),
        "largest_cluster": int(np.bincount(np.asarray(clusters)).max()) if clusters else 0,
        "test_fraction": test_fraction,
    }
    if len(results) > 1:
        result["over_splits"] = over_splits(results, seeds)
    if cache is not None:
        result["vector_cache"] = _cache_report(cache)
    if second_cache is not None:
        result["second_vector_cache"] = _cache_report(second_cache)
    return result


SPLIT_FIGURES = ("accuracy", "macro_f1", "top3_accuracy", "accuracy_at_80_coverage", "ece")


def over_splits(results: Sequence[dict[str, Any]], seeds: Sequence[int]) -> dict[str, Any]:
    """Each system's figures on every split and their mean. On a few hundred test tickets
    one split's figures move with which clusters fall on the test side (on the support
    sets by up to 0.03 of accuracy and 0.03 of ECE, docs/BENCHMARKS.md), so a comparison
    of systems reads better from the mean of several."""
    systems: dict[str, Any] = {}
    for name in results[0]["systems"]:
        present = [r["systems"][name] for r in results if name in r["systems"]]
        systems[name] = {
            figure: {
                "mean": round(float(np.mean([p[figure] for p in present])), 4),
                "per_split": [p[figure] for p in present],
            }
            for figure in SPLIT_FIGURES
        }
    return {"seeds": list(seeds), "tests": [r["test"] for r in results], "systems": systems}
