"""In-process /search latency at 100k passages: hybrid beside dense-only, same run, same queries.

The index holds real passages (articles and tickets encoded by the real model) plus
perturbed copies up to the wanted size; the output says how many of each. For every query
and filter the two systems run back to back on the same searcher, so both see the same
background load; the ratio hybrid/dense is the figure to read.

"hybrid before" runs in the same loop on the same dense index, with the lexical analysis
and fusion weights main had before issue 17 (its hand-written stop-word list, no list
agreement), so the ratio now/before compares both under the same load.

`--second` runs the shipped default: the search's second model (all-MiniLM-L6-v2) encodes
the English real passages (their copies get perturbed copies of those vectors) and every
English query, and "hybrid" ranks with it; its query encode is counted in "+encode".
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.common import (
    BEFORE_STOPWORDS,
    DEFAULT_MODEL,
    MAX_WORDS,
    MODEL_CACHE,
    REPO_ROOT,
    format_table,
    load_note,
    percentile,
    print_json_line,
)
from bench.corpus import held_out_queries, perturbed, real_tickets
from index.analysis import Analyzer, guess_language
from index.dense import DenseIndex, IndexKind
from index.embedder import Vectors, load_embedder
from index.fusion import FusionWeights
from index.lexical import LexicalIndex
from index.query_vector import query_vectors
from index.searcher import FacetIndex, FilterValue, PassageMeta, Searcher
from index.second_standing import SecondVectors
from ingest.facets import article_facets, ticket_facets
from ingest.pipeline import article_chunks, read_article_dir, ticket_chunks

K = 10
FILTERS: dict[str, dict[str, FilterValue]] = {
    "none": {},
    "solution=yes (broad)": {"solution": "yes"},
    "language=de": {"language": "de"},
    "kind=article (selective)": {"kind": "article"},
}
CACHE_FILE = "real-passages.npz"
SECOND_MODEL = "all-minilm-l6-v2"
# The fusion weights of main before issue 17 (its analysis: bench.common.BEFORE_STOPWORDS).
BEFORE_WEIGHTS = FusionWeights(
    dense=1.0,
    lexical=1.1,
    agreement_floor=1.0,
    centre_languages=False,
    lexical_by_language=False,
)
# `--before languages`: today's analysis and fusion without the per-language rules
# (index.language_offset), to time those alone.
LANGUAGES_OFF = FusionWeights(centre_languages=False, lexical_by_language=False)


@dataclass(frozen=True)
class RealPassages:
    """Passages encoded by the real model, with the facets the service would give them."""

    texts: list[str]
    doc_keys: list[str]
    facets: list[dict[str, str]]
    vectors: Vectors


def _real_passage_rows(tickets: int) -> tuple[list[str], list[str], list[dict[str, str]]]:
    texts: list[str] = []
    doc_keys: list[str] = []
    facets: list[dict[str, str]] = []
    for parsed in read_article_dir(REPO_ROOT / "articles"):
        meta = parsed.meta
        for chunk in article_chunks(parsed, MAX_WORDS):
            texts.append(chunk.embedding_text())
            doc_keys.append(f"article:{parsed.slug}")
            facets.append(article_facets(meta))
    for ticket in real_tickets(tickets):
        for chunk in ticket_chunks(ticket, MAX_WORDS):
            texts.append(chunk.embedding_text())
            doc_keys.append(f"ticket:{ticket.source}:{ticket.id}")
            facets.append(ticket_facets(ticket))
    return texts, doc_keys, facets


def real_passages(workdir: Path, tickets: int, model: str, threads: int) -> RealPassages:
    """Encode the real passages once; later runs with the same folder reuse the vectors."""
    texts, doc_keys, facets = _real_passage_rows(tickets)
    cache = workdir / (CACHE_FILE if model != SECOND_MODEL else f"{model}-{CACHE_FILE}")
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            if str(data["model"]) == model and int(data["count"]) == len(texts):
                print(f"reusing {len(texts)} encoded passages from {cache}")
                return RealPassages(texts, doc_keys, facets, data["vectors"])
    print(f"encoding {len(texts)} real passages with {model} (minutes on one thread) ...")
    embedder = load_embedder(model, cache_dir=MODEL_CACHE, threads=threads)
    vectors = embedder.encode_documents(texts, show_progress=True)
    np.savez(cache, model=np.array(model), count=np.array(len(texts)), vectors=vectors)
    return RealPassages(texts, doc_keys, facets, vectors)


def english_passages(real: RealPassages) -> np.ndarray:
    """Which real passages are of an English document, as ingest decides
    (ingest.second_passages.is_english: the stated language, else the document's words)."""
    texts: dict[str, list[str]] = {}
    for key, text in zip(real.doc_keys, real.texts, strict=True):
        texts.setdefault(key, []).append(text)
    english = {}
    for key, facets in zip(real.doc_keys, real.facets, strict=True):
        if key not in english:
            stated = facets.get("language") or guess_language(" ".join(texts[key])) or ""
            english[key] = stated.split("-")[0] == "en"
    return np.array([english[key] for key in real.doc_keys])


def build_searcher(
    real: RealPassages,
    size: int,
    kind: IndexKind,
    sigma: float,
    second: RealPassages | None = None,
) -> Searcher:
    """Real passages, then perturbed copies (same text and facets, noisy vector) up to size;
    with `second`, English passages carry that model's vectors (perturbed for copies)."""
    rng = np.random.default_rng(0)
    second_rng = np.random.default_rng(1)  # the main vectors stay those of a run without
    searcher = Searcher(DenseIndex(real.vectors.shape[1], kind))
    english = english_passages(real) if second is not None else None
    if second is not None:
        searcher.use_second(SecondVectors(SECOND_MODEL))
    count = len(real.texts)
    batch = 10_000
    for start in range(0, size, batch):
        positions = np.arange(start, min(start + batch, size))
        sources = positions % count
        vectors = real.vectors[sources]
        copies = positions >= count
        if copies.any():
            vectors = vectors.copy()
            vectors[copies] = perturbed(vectors[copies], sigma, rng)
        metas = [
            PassageMeta(
                passage_id=int(position) + 1,
                doc_key=real.doc_keys[source]
                if position < count
                else f"{real.doc_keys[source]}:copy{position // count}",
                facets=real.facets[source],
            )
            for position, source in zip(positions.tolist(), sources.tolist(), strict=True)
        ]
        texts = [real.texts[source] for source in sources.tolist()]
        second_vectors = None
        if second is not None and english is not None:
            chosen = english[sources]
            extra = second.vectors[sources[chosen]]
            copied = copies[chosen]
            if copied.any():
                extra = extra.copy()
                extra[copied] = perturbed(extra[copied], sigma, second_rng)
            ids = (positions[chosen] + 1).tolist()
            second_vectors = dict(zip(ids, extra, strict=True))
        searcher.add(metas, vectors, texts, second=second_vectors)
    return searcher


def before_searcher(
    searcher: Searcher, real: RealPassages, size: int, variant: str = "issue17"
) -> Searcher:
    """The same dense index and passages, with main's lexical analysis and fusion weights
    before issue 17, or (`languages`) today's without the per-language rules."""
    if variant == "languages":
        lexical = LexicalIndex(Analyzer())
        before = Searcher(searcher.index, lexical, weights=LANGUAGES_OFF)
    else:
        lexical = LexicalIndex(Analyzer(stopwords=BEFORE_STOPWORDS))
        before = Searcher(searcher.index, lexical, weights=BEFORE_WEIGHTS)
    count = len(real.texts)
    metas = [meta for pid in range(1, size + 1) if (meta := searcher.meta(pid)) is not None]
    before.set_metadata(metas)
    lexical.add_many((meta.passage_id, real.texts[(meta.passage_id - 1) % count]) for meta in metas)
    return before


@dataclass(frozen=True)
class FilterFigures:
    """Per-query search_documents times (ms) of both systems under one filter."""

    index_kind: str
    filter_name: str
    allowed_passages: int
    dense_p50: float
    dense_p95: float
    hybrid_p50: float
    hybrid_p95: float
    before_p50: float
    before_p95: float
    allowed_p50: float
    short_results: int
    dense_with_encode_p95: float
    hybrid_with_encode_p95: float

    @property
    def ratio_p50(self) -> float:
        return self.hybrid_p50 / self.dense_p50 if self.dense_p50 else 0.0

    @property
    def ratio_p95(self) -> float:
        return self.hybrid_p95 / self.dense_p95 if self.dense_p95 else 0.0

    @property
    def now_over_before_p95(self) -> float:
        return self.hybrid_p95 / self.before_p95 if self.before_p95 else 0.0

    @property
    def ratio_with_encode_p95(self) -> float:
        """The /search view: each query's encode plus its search."""
        dense = self.dense_with_encode_p95
        return self.hybrid_with_encode_p95 / dense if dense else 0.0


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def measure_filter(
    searcher: Searcher,
    before: Searcher,
    facets: FacetIndex,
    queries: list[tuple[str, Vectors, Vectors | None]],
    encode_ms: list[float],
    warmup: int,
    kind: str,
    name: str,
    filters: Mapping[str, FilterValue],
) -> FilterFigures:
    """Dense, hybrid and hybrid before alternate query by query; the first `warmup` queries
    are not timed."""
    dense_ms: list[float] = []
    hybrid_ms: list[float] = []
    before_ms: list[float] = []
    allowed_ms: list[float] = []
    short = 0
    allowed = facets.allowed(filters) if filters else None
    available = len(allowed) if allowed is not None else len(searcher)
    for position, (text, vector, second) in enumerate(queries):
        started = time.perf_counter()
        dense = searcher.search_documents(vector, K, filters or None, text=text, system="dense")
        dense_time = _ms(started)
        started = time.perf_counter()
        searcher.search_documents(
            vector, K, filters or None, text=text, system="hybrid", second_query=second
        )
        hybrid_time = _ms(started)
        started = time.perf_counter()
        before.search_documents(vector, K, filters or None, text=text, system="hybrid")
        before_time = _ms(started)
        started = time.perf_counter()
        facets.allowed(filters)
        allowed_time = _ms(started)
        if position >= warmup:
            dense_ms.append(dense_time)
            hybrid_ms.append(hybrid_time)
            before_ms.append(before_time)
            allowed_ms.append(allowed_time)
            short += len(dense) < min(K, available)
    return FilterFigures(
        index_kind=kind,
        filter_name=name,
        allowed_passages=available,
        dense_p50=round(percentile(dense_ms, 0.5), 2),
        dense_p95=round(percentile(dense_ms, 0.95), 2),
        hybrid_p50=round(percentile(hybrid_ms, 0.5), 2),
        hybrid_p95=round(percentile(hybrid_ms, 0.95), 2),
        before_p50=round(percentile(before_ms, 0.5), 2),
        before_p95=round(percentile(before_ms, 0.95), 2),
        allowed_p50=round(percentile(allowed_ms, 0.5), 3),
        short_results=short,
        dense_with_encode_p95=round(
            percentile([e + d for e, d in zip(encode_ms, dense_ms, strict=True)], 0.95), 2
        ),
        hybrid_with_encode_p95=round(
            percentile([e + h for e, h in zip(encode_ms, hybrid_ms, strict=True)], 0.95), 2
        ),
    )


def facet_index(searcher: Searcher, size: int) -> FacetIndex:
    """A FacetIndex over the same metadata, to time `allowed` on its own."""
    facets = FacetIndex()
    for passage_id in range(1, size + 1):
        meta = searcher.meta(passage_id)
        if meta is not None:
            facets.add(meta)
    return facets


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="Passages in the index.")
    parser.add_argument("--tickets", type=int, default=3000, help="Real tickets encoded.")
    parser.add_argument("--queries", type=int, default=200, help="Measured queries per filter.")
    parser.add_argument("--warmup", type=int, default=10, help="Untimed queries first.")
    parser.add_argument("--kinds", default="flat,hnsw", help="FAISS index kinds to measure.")
    parser.add_argument("--sigma", type=float, default=0.02, help="Noise per dimension.")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="Embedding model name.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for encoding.")
    parser.add_argument("--reuse", type=Path, help="Folder of an earlier run (encoded passages).")
    parser.add_argument(
        "--second", action="store_true", help=f"hybrid with the second model ({SECOND_MODEL})"
    )
    parser.add_argument(
        "--before",
        choices=("issue17", "languages"),
        default="issue17",
        help="'hybrid before': main before issue 17, or today's without the language rules.",
    )
    return parser.parse_args()


def print_figures(figures: list[FilterFigures]) -> None:
    headers = [
        "index",
        "filter",
        "allowed",
        "dense p50",
        "dense p95",
        "hybrid p50",
        "hybrid p95",
        "before p95",
        "now/before p95",
        "p50 ratio",
        "p95 ratio",
        "allowed() p50",
        "dense short",
        "+encode p95 ratio",
    ]
    rows = [
        [
            f.index_kind,
            f.filter_name,
            f.allowed_passages,
            f.dense_p50,
            f.dense_p95,
            f.hybrid_p50,
            f.hybrid_p95,
            f.before_p95,
            round(f.now_over_before_p95, 2),
            round(f.ratio_p50, 2),
            round(f.ratio_p95, 2),
            f"{f.allowed_p50:.3f}",
            f.short_results,
            round(f.ratio_with_encode_p95, 2),
        ]
        for f in figures
    ]
    print(format_table(headers, rows))


def main() -> None:
    args = parse_args()
    workdir: Path = args.reuse or Path(tempfile.mkdtemp(prefix="stellwerk-bench-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"work folder: {workdir}  (pass --reuse {workdir} to skip re-encoding)")
    print(load_note())
    real = real_passages(workdir, args.tickets, args.model, args.threads)
    second = (
        real_passages(workdir, args.tickets, SECOND_MODEL, args.threads) if args.second else None
    )
    held_out = held_out_queries(args.warmup + args.queries)
    embedder = load_embedder(args.model, cache_dir=MODEL_CACHE, threads=args.threads)
    second_embedder = (
        load_embedder(SECOND_MODEL, cache_dir=MODEL_CACHE, threads=args.threads)
        if args.second
        else None
    )
    query_vectors(embedder, held_out[0].text())  # warm-up
    if second_embedder is not None:
        second_embedder.encode_queries([held_out[0].text()])
    queries: list[tuple[str, Vectors, Vectors | None]] = []
    encode_ms: list[float] = []
    for query in held_out:
        started = time.perf_counter()
        # As /search does: both roles in one pass (index.query_vector), and the second
        # model's vector of an English query (ingest.live_index.LiveIndex.second_vector).
        vector = query_vectors(embedder, query.text()).ranking
        second_vector = None
        if second_embedder is not None and guess_language(query.text()) == "en":
            second_vector = second_embedder.encode_queries([query.text()])[0]
        queries.append((query.text(), vector, second_vector))
        encode_ms.append(_ms(started))
    encode_ms = encode_ms[args.warmup :]
    print(
        f"query encode (the same for both systems): p50 {percentile(encode_ms, 0.5):.1f} ms, "
        f"p95 {percentile(encode_ms, 0.95):.1f} ms"
    )
    synthetic = max(0, args.size - len(real.texts))
    print(
        f"{args.size} passages: {min(args.size, len(real.texts))} real (30 articles and "
        f"{args.tickets} tickets, encoded), {synthetic} SYNTHETIC (copies of the real passages: "
        f"same text and facets, vector + N(0, {args.sigma}) per dimension, re-normalised)"
    )
    print(f"{args.queries} measured queries (held-out tickets), {args.warmup} warm-up, k={K}")
    figures: list[FilterFigures] = []
    for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
        started = time.perf_counter()
        searcher = build_searcher(
            real, args.size, "hnsw" if kind == "hnsw" else "flat", args.sigma, second
        )
        print(f"{kind}: built in {time.perf_counter() - started:.1f} s; {load_note()}")
        before = before_searcher(searcher, real, args.size, args.before)
        facets = facet_index(searcher, args.size)
        for name, filters in FILTERS.items():
            figures.append(
                measure_filter(
                    searcher, before, facets, queries, encode_ms, args.warmup, kind, name, filters
                )
            )
            print(f"  {name}: done; {load_note()}")
    print()
    print("search_documents per query, ms (hybrid = dense + BM25 + fusion; ratio hybrid/dense):")
    print_figures(figures)
    worst = max(f.ratio_p95 for f in figures)
    worst_search = max(f.ratio_with_encode_p95 for f in figures)
    print(f"\nworst p95 ratio hybrid/dense, search_documents alone: {worst:.2f}")
    slowest = max(f.now_over_before_p95 for f in figures)
    print(f"worst p95 ratio hybrid now/before: {slowest:.2f} (target <= 1.3: {slowest <= 1.3})")
    print(
        f"worst p95 ratio hybrid/dense, encode + search (/search): {worst_search:.2f} "
        f"(target <= 2.0: {worst_search <= 2.0})"
    )
    print(load_note())
    print_json_line(
        "search_latency",
        {
            "size": args.size,
            "second_model": SECOND_MODEL if args.second else None,
            "real_passages": min(args.size, len(real.texts)),
            "synthetic_passages": synthetic,
            "sigma": args.sigma,
            "queries": args.queries,
            "encode_p50": round(percentile(encode_ms, 0.5), 2),
            "encode_p95": round(percentile(encode_ms, 0.95), 2),
            "work_folder": str(workdir),
            "figures": [
                asdict(f)
                | {
                    "ratio_p50": round(f.ratio_p50, 2),
                    "ratio_p95": round(f.ratio_p95, 2),
                    "now_over_before_p95": round(f.now_over_before_p95, 2),
                    "ratio_with_encode_p95": round(f.ratio_with_encode_p95, 2),
                }
                for f in figures
            ],
        },
    )


if __name__ == "__main__":
    main()
