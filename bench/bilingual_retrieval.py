"""Retrieval over a knowledge base of two languages: two retrieval sets merged into one index.

    .venv/bin/python -m bench.bilingual_retrieval --work /tmp/stellwerk-lodo \\
        --cache-dir /tmp/stellwerk-lodo/query-vectors

Every set in shared/data/retrieval holds one language, so none of them shows what a
multilingual embedder does to a knowledge base of German and English articles and tickets
(the demo's): a query is nearer to every text of its own language (index.language_offset).
Pairs of sets are merged here, each passage tagged with its set's language, from the
workspaces `stellwerk eval retrieval --workspace` leaves (nothing is encoded again but the
queries missing from the cache):

- xquad-de + xquad-de-en: the same 240 paragraphs in German and in English and the same
  German questions; both versions of the paragraph are relevant.
- covid-faq-de + covid-faq-en: two FAQ collections and both sets of questions; a question
  is judged against its own language's answers only (the other language's are unjudged),
  so this pair shows the harm of lifting the other language, not its use.

Printed per pair: nDCG@10 of bm25, dense, and hybrid without and with the language offset
removed, computed in the same run, and hybrid's nDCG@10 over the judged languages' documents
alone (the other language's left out of the ranking), which the offset should not lower.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import select

from app import components
from app.services.retrieval_eval import DEPTH, QueryEncoder
from app.settings import Settings
from bench.common import DATA_DIR
from db.models import Passage, Ticket
from db.session import create_db_engine, session_factory
from index.dense import DenseIndex, IndexKind
from index.fusion import System
from index.lexical import LexicalIndex
from index.metrics import ndcg_at
from index.searcher import PassageMeta, Searcher
from ingest.beir import load_beir
from ingest.chunking import Chunk

PAIRS = (("xquad-de", "de", "xquad-de-en", "en"), ("covid-faq-de", "de", "covid-faq-en", "en"))
Relevant = dict[str, dict[str, int]]


def _passages(workspace: Path) -> list[tuple[str, np.ndarray, str]]:
    """(external document id, vector, text as the indexes read it) of every passage."""
    engine = create_db_engine(f"sqlite:///{workspace / 'eval.db'}")
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                select(Ticket.external_id, Passage.embedding, Passage.heading_path, Passage.text)
                .join(Ticket, Passage.ticket_id == Ticket.id)
                .order_by(Passage.id)
            ).all()
    finally:
        engine.dispose()
    return [
        (
            external,
            np.frombuffer(blob, dtype=np.float32),
            Chunk(tuple(path), None, text).embedding_text(),
        )
        for external, blob, path, text in rows
    ]


def merged_searcher(parts: Sequence[tuple[str, Path]], dim: int, exact_max: int) -> Searcher:
    """One searcher over the workspaces' passages; doc keys are `<language>:<document id>`."""
    metas: list[PassageMeta] = []
    vectors: list[np.ndarray] = []
    texts: list[str] = []
    for language, workspace in parts:
        for external, vector, text in _passages(workspace):
            metas.append(
                PassageMeta(len(metas) + 1, f"{language}:{external}", {"language": language})
            )
            vectors.append(vector)
            texts.append(text)
    kind: IndexKind = "flat" if len(metas) <= exact_max else "hnsw"
    searcher = Searcher(DenseIndex(dim, kind), LexicalIndex())
    searcher.add(metas, np.vstack(vectors).astype(np.float32), texts)
    return searcher


def _queries(
    data: Path, first: str, a: str, second: str, b: str
) -> tuple[dict[str, str], Relevant]:
    texts: dict[str, str] = {}
    relevant: Relevant = {}
    for name, language in ((first, a), (second, b)):
        dataset = load_beir(data / name)
        for query_id, judged in dataset.qrels.items():
            if not judged or query_id not in dataset.queries:
                continue
            texts[query_id] = dataset.queries[query_id]
            wanted = relevant.setdefault(query_id, {})
            wanted.update({f"{language}:{doc}": grade for doc, grade in judged.items()})
    return texts, relevant


def score(
    searcher: Searcher,
    encode: QueryEncoder,
    texts: dict[str, str],
    relevant: Relevant,
    system: System,
    *,
    centre: bool,
    by_language: bool = False,
) -> tuple[float, float]:
    """nDCG@10 of the ranking, and of the ranking with only the judged languages' documents
    (how well each language's own answers are ordered, the other language set aside)."""
    searcher.weights = dataclasses.replace(
        searcher.weights, centre_languages=centre, lexical_by_language=by_language
    )
    total = own = 0.0
    for query_id, text in texts.items():
        vector = encode(text).ranking if system != "bm25" else None
        hits = searcher.search_documents(vector, DEPTH, text=text, system=system)
        ranked = [hit.doc_key for hit in hits]
        languages = {doc.split(":", 1)[0] for doc in relevant[query_id]}
        same = [doc for doc in ranked if doc.split(":", 1)[0] in languages]
        total += ndcg_at(ranked, relevant[query_id], 10)
        own += ndcg_at(same, relevant[query_id], 10)
    count = max(len(texts), 1)
    return total / count, own / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="holds ws/<set> workspaces")
    parser.add_argument("--cache-dir", type=Path, required=True, help="query vector cache")
    parser.add_argument("--data", type=Path, default=DATA_DIR / "retrieval")
    args = parser.parse_args()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    embedder = components.load_configured_embedder(settings)
    encode = QueryEncoder(embedder, args.cache_dir)
    print(
        "| pair | passages / queries | bm25 | dense | hybrid, offset kept | hybrid, removed "
        "| and BM25 per language | own language only: kept / removed / BM25 per language |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for first, a, second, b in PAIRS:
        parts = [(a, args.work / "ws" / first), (b, args.work / "ws" / second)]
        searcher = merged_searcher(parts, embedder.dim, settings.index_exact_max_vectors)
        texts, relevant = _queries(args.data, first, a, second, b)
        encode.prefetch(list(texts.values()))
        bm25 = score(searcher, encode, texts, relevant, "bm25", centre=False)
        dense = score(searcher, encode, texts, relevant, "dense", centre=False)
        kept = score(searcher, encode, texts, relevant, "hybrid", centre=False)
        removed = score(searcher, encode, texts, relevant, "hybrid", centre=True)
        apart = score(searcher, encode, texts, relevant, "hybrid", centre=True, by_language=True)
        cells = " | ".join(f"{value[0]:.4f}" for value in (bm25, dense, kept, removed, apart))
        print(
            f"| {first} + {second} | {len(searcher)} / {len(texts)} | {cells} "
            f"| {kept[1]:.4f} / {removed[1]:.4f} / {apart[1]:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
