"""Per-query candidate lists of a retrieval set, computed once and kept for fusion studies.

Each set is ingested through the production pipeline into `work/ws/<set>` (reused, so its
passages are encoded once; `stellwerk eval retrieval --workspace` shares the folder), its
queries are encoded once into the vector cache of `stellwerk eval retrieval --cache-dir`,
and per judged query the dense and the BM25 document lists (the production
`Searcher.search_documents`, as deep as the hybrid system reads them) are kept with what the
fusion reads besides: term coverage and query length. With `second` set, the cosine of a
second model (all-MiniLM-L6-v2) to every candidate document's best passage is added, and
every query and candidate is tagged with the language its stop words suggest.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select

from app.services.retrieval_eval import DEPTH, QueryEncoder, index_dataset
from db.models import Passage
from db.session import create_db_engine, session_factory
from index.analysis import Analyzer, guess_language
from index.embedder import Embedder
from index.fusion import FUSION_CANDIDATES, Ranked
from index.lexical import LexicalIndex
from index.searcher import Searcher
from ingest.beir import load_beir
from ingest.chunking import Chunk
from routing.vector_cache import VectorCache, ticket_key

MAX_WORDS = 180
# Documents per list: the hybrid system reads max(k, FUSION_CANDIDATES) with k = DEPTH + 1.
LIST_DEPTH = max(DEPTH + 1, FUSION_CANDIDATES)


@dataclass
class QueryLists:
    query_id: str
    text: str
    relevant: dict[str, int]
    dense: list[Ranked]
    lexical: list[Ranked]
    coverage: float
    groups: int
    language: str | None = None
    second: dict[str, float] = field(default_factory=dict)
    doc_language: dict[str, str | None] = field(default_factory=dict)


@dataclass
class SetLists:
    name: str
    doc_ids: dict[str, str]
    queries: list[QueryLists]
    second_encode_ms: list[float] = field(default_factory=list)


def _lists(searcher: Searcher, vector: np.ndarray, text: str) -> tuple[list[Ranked], list[Ranked]]:
    dense = searcher.search_documents(vector, LIST_DEPTH, text=text, system="dense")
    lexical = searcher.search_documents(None, LIST_DEPTH, text=text, system="bm25")
    return (
        [Ranked(h.doc_key, h.score, h.best_passage_id) for h in dense],
        [Ranked(h.doc_key, h.score, h.best_passage_id) for h in lexical],
    )


def _passages(workspace: Path) -> list[tuple[int, str]]:
    """(passage id, text as the indexes read it: headings and text), in passage order."""
    engine = create_db_engine(f"sqlite:///{workspace / 'eval.db'}")
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                select(Passage.id, Passage.heading_path, Passage.text).order_by(Passage.id)
            ).all()
    finally:
        engine.dispose()
    return [(pid, Chunk(tuple(path), None, text).embedding_text()) for pid, path, text in rows]


def _passage_texts(passages: list[tuple[int, str]], searcher: Searcher) -> dict[str, list[str]]:
    """Every document's passage texts, in passage order."""
    texts: dict[str, list[str]] = {}
    for passage_id, text in passages:
        meta = searcher.meta(passage_id)
        if meta is not None:
            texts.setdefault(meta.doc_key, []).append(text)
    return texts


def with_stopwords(
    searcher: Searcher, passages: list[tuple[int, str]], stopwords: frozenset[str]
) -> Searcher:
    """The same dense index and passages, BM25 over text analysed with other stop words."""
    variant = Searcher(searcher.index, LexicalIndex(Analyzer(stopwords=stopwords)))
    metas = [meta for pid, _ in passages if (meta := searcher.meta(pid)) is not None]
    variant.set_metadata(metas)
    variant.lexical.add_many((pid, text) for pid, text in passages if searcher.meta(pid))
    return variant


def _second_scores(
    lists: SetLists, passages: dict[str, list[str]], second: Embedder, cache_dir: Path
) -> None:
    cache = VectorCache(cache_dir, second.model_id, second.dim)
    flat = [(doc, text) for doc, texts in passages.items() for text in texts]
    keys = [ticket_key([text]) for _, text in flat]
    missing = list(dict.fromkeys(k for k in keys if not cache.get([k])))
    if missing:
        by_key = {ticket_key([text]): text for _, text in flat}
        cache.put(missing, second.encode_documents([by_key[k] for k in missing]))
    stored = cache.get(keys)
    doc_vectors: dict[str, list[np.ndarray]] = {}
    for (doc, _), key in zip(flat, keys, strict=True):
        doc_vectors.setdefault(doc, []).append(stored[key])
    matrices = {doc: np.stack(rows) for doc, rows in doc_vectors.items()}
    for query in lists.queries:
        started = time.perf_counter()
        vector = second.encode_queries([query.text])[0]
        lists.second_encode_ms.append((time.perf_counter() - started) * 1000)
        candidates = {r.doc_key for r in query.dense} | {r.doc_key for r in query.lexical}
        query.second = {doc: float(np.max(matrices[doc] @ vector)) for doc in candidates}
        query.language = guess_language(query.text)
        query.doc_language = {doc: guess_language(" ".join(passages[doc])) for doc in candidates}


def collect(
    folder: Path,
    embedder: Embedder,
    work: Path,
    *,
    exact_max: int = 10**6,
    second: Embedder | None = None,
    stopwords: tuple[str, frozenset[str]] | None = None,
    refresh: bool = False,
) -> SetLists:
    """The set's candidate lists, from `work/lists/<set>.pkl` when present and not `refresh`.

    `stopwords` (a name and the words) replaces the analyzer's stop words for BM25.
    """
    dataset = load_beir(folder)
    variant = f"-{stopwords[0]}" if stopwords else ""
    store = work / "lists" / f"{dataset.name}{variant}{'+second' if second else ''}.pkl"
    if store.is_file() and not refresh:
        with store.open("rb") as handle:
            loaded: SetLists = pickle.load(handle)  # noqa: S301 - our own temp file
            return loaded
    workspace = work / "ws" / dataset.name
    searcher, doc_ids = index_dataset(
        dataset, embedder, workspace, max_words=MAX_WORDS, exact_max=exact_max, show_progress=True
    )
    passages = _passages(workspace)
    if stopwords is not None:
        searcher = with_stopwords(searcher, passages, stopwords[1])
    judged = [qid for qid in dataset.queries if dataset.qrels.get(qid)]
    encode = QueryEncoder(embedder, work / "query-vectors")
    encode.prefetch([dataset.queries[qid] for qid in judged])
    queries = []
    for query_id in judged:
        text = dataset.queries[query_id]
        dense, lexical = _lists(searcher, encode(text).ranking, text)
        queries.append(
            QueryLists(
                query_id=query_id,
                text=text,
                relevant=dataset.qrels[query_id],
                dense=dense,
                lexical=lexical,
                coverage=searcher.lexical.coverage(text),
                groups=len(searcher.lexical.weighted_query(text)),
            )
        )
    lists = SetLists(dataset.name, doc_ids, queries)
    if second is not None:
        texts = _passage_texts(passages, searcher)
        _second_scores(lists, texts, second, work / "second-vectors")
    store.parent.mkdir(parents=True, exist_ok=True)
    with store.open("wb") as handle:
        pickle.dump(lists, handle)
    return lists
