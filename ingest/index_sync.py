"""Keep a searcher in step with the database: load a snapshot, replay the change log, save."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session, sessionmaker

from db.models import Article, IndexChange, Passage, Ticket
from index.dense import DenseIndex, choose_kind
from index.embedder import Vectors
from index.errors import SnapshotMismatch
from index.searcher import PassageMeta, Searcher
from index.second_standing import SecondVectors
from index.snapshot import Manifest, load_snapshot, write_snapshot
from ingest.chunking import Chunk
from ingest.facets import article_facets, ticket_facets

log = logging.getLogger("stellwerk.index")

_BATCH = 5000
# Where a snapshot keeps the change feed's transaction floor (PostgreSQL), see catch_up.
TXID_FLOOR = "txid_floor"


@dataclass
class StoredPassages:
    """Passages as the indexes need them: metadata, vectors and the text to analyse."""

    metas: list[PassageMeta] = field(default_factory=list)
    vectors: Vectors = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    texts: list[str] = field(default_factory=list)
    # The second model's vectors by passage id (English passages that have them).
    second: dict[int, Vectors] = field(default_factory=dict)


def _stored_passages(
    session: Session,
    passage_ids: Sequence[int] | None,
    model_id: str,
    second_model_id: str | None = None,
) -> StoredPassages:
    """Metadata, stored vectors and texts of the given passages (all when None), and the
    vectors of `second_model_id` where a passage has them."""
    stored = StoredPassages()
    blobs: list[bytes] = []
    id_batches: Iterable[Sequence[int] | None] = (
        [None]
        if passage_ids is None
        else [passage_ids[i : i + _BATCH] for i in range(0, len(passage_ids), _BATCH)]
    )
    columns = (
        Passage.id,
        Passage.model_id,
        Passage.embedding,
        Passage.heading_path,
        Passage.text,
        Passage.second_model_id,
        Passage.second_embedding,
    )
    for ids in id_batches:
        article_query = (
            select(*columns, Article).join(Article, Passage.article_id == Article.id)
        ).order_by(Passage.id)
        ticket_query = (
            select(*columns, Ticket).join(Ticket, Passage.ticket_id == Ticket.id)
        ).order_by(Passage.id)
        if ids is not None:
            article_query = article_query.where(Passage.id.in_(ids))
            ticket_query = ticket_query.where(Passage.id.in_(ids))
        owned: list[tuple[Sequence[Any], str, dict[str, str]]] = [
            (row, f"article:{row.Article.id}", article_facets(row.Article))
            for row in session.execute(article_query)
        ]
        owned += [
            (row, f"ticket:{row.Ticket.id}", ticket_facets(row.Ticket))
            for row in session.execute(ticket_query)
        ]
        for row, doc_key, facets in owned:
            pid, passage_model, blob, path, text, second_model, second_blob = row[:7]
            if passage_model != model_id:
                raise SnapshotMismatch(
                    f"Passage {pid} was embedded with {passage_model!r}, the configured "
                    f"model is {model_id!r}. Run `stellwerk index rebuild`."
                )
            stored.metas.append(PassageMeta(pid, doc_key, facets))
            stored.texts.append(Chunk(tuple(path), None, text).embedding_text())
            blobs.append(blob)
            if second_model_id is not None and second_model == second_model_id and second_blob:
                stored.second[pid] = np.frombuffer(second_blob, dtype=np.float32)
    if blobs:
        stored.vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
    return stored


def ensure_same_model(session: Session, model_id: str) -> None:
    """Refuse to mix models: stored passages embedded by another model need a rebuild first."""
    other = session.scalar(select(Passage.model_id).where(Passage.model_id != model_id).limit(1))
    if other is not None:
        raise SnapshotMismatch(
            f"The database holds passages embedded with {other!r}, but the configured model "
            f"is {model_id!r}. Run `stellwerk index rebuild` first (or set "
            "STELLWERK_EMBEDDING_MODEL back)."
        )


def _latest_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(IndexChange.seq))) or 0)


def build_searcher(
    session: Session,
    *,
    dim: int,
    model_id: str,
    exact_max: int,
    second_model_id: str | None = None,
) -> Searcher:
    """A fresh searcher from the database alone (the stored vectors); with
    `second_model_id`, English candidates are ranked by that model too."""
    floor = oldest_open_transaction(session)
    watermark = _latest_seq(session)
    stored = _stored_passages(session, None, model_id, second_model_id)
    index = DenseIndex(dim, choose_kind(len(stored.metas), exact_max))
    searcher = Searcher(index, watermark=watermark)
    if second_model_id is not None:
        searcher.use_second(SecondVectors(second_model_id))
    searcher.txid_floor = floor
    if stored.metas:
        searcher.add(
            stored.metas,
            stored.vectors.reshape(len(stored.metas), dim),
            stored.texts,
            second=stored.second,
        )
    return searcher


def oldest_open_transaction(session: Session) -> int | None:
    """PostgreSQL: the id of the oldest transaction still running (every change of an older
    one is committed or gone for good); None elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    value = session.scalar(sql("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
    return int(value) if value is not None else None


def catch_up(session: Session, searcher: Searcher, model_id: str) -> int:
    """Apply committed changes the searcher has not applied yet; returns how many.

    Sequence values are taken when a row is written but become visible when its transaction
    commits, so on PostgreSQL a change numbered below the watermark can appear later. Every
    change of a transaction from the last read's oldest open one on is therefore read again
    until that transaction has ended; `searcher.recent` keeps re-read ones from applying twice.
    On SQLite writers take turns, so changes appear in sequence order.
    """
    floor = oldest_open_transaction(session)  # before the read: what it cannot see is newer
    window = IndexChange.seq > searcher.watermark
    if searcher.txid_floor is not None:
        window = or_(window, IndexChange.txid >= searcher.txid_floor)
    rows = session.execute(
        select(IndexChange.seq, IndexChange.passage_id, IndexChange.op, IndexChange.txid)
        .where(window)
        .order_by(IndexChange.seq)
    ).all()
    fresh = [row for row in rows if row[0] not in searcher.recent]
    if floor is not None:
        searcher.recent = {row[0] for row in rows if row[3] is not None and row[3] >= floor}
        searcher.txid_floor = floor
    if not fresh:
        return 0
    # Changes of one passage commit in sequence order (a removal needs the added row), so
    # the last fresh operation per passage is its state.
    last_op: dict[int, str] = {}
    for _, pid, op, _ in fresh:
        last_op[pid] = op
    removed = [pid for pid, op in last_op.items() if op == "remove"]
    added = [pid for pid, op in last_op.items() if op == "add"]
    searcher.remove(removed)
    if added:
        second_model_id = searcher.second.model_id if searcher.second is not None else None
        stored = _stored_passages(session, added, model_id, second_model_id)
        if stored.metas:
            searcher.add(
                stored.metas,
                stored.vectors.reshape(len(stored.metas), searcher.dim),
                stored.texts,
                second=stored.second,
            )
    searcher.watermark = max(searcher.watermark, int(fresh[-1][0]))
    return len(fresh)


def open_searcher(
    session: Session,
    *,
    index_dir: Path,
    dim: int,
    model_id: str,
    engine: str,
    exact_max: int,
    second_model_id: str | None = None,
) -> tuple[Searcher, Manifest | None]:
    """Load the current snapshot and bring it up to date; build from the database if none.

    A snapshot holds the main model's index; the second model's vectors (`second_model_id`)
    are read from the database with the passages' metadata.
    """
    loaded = load_snapshot(
        index_dir, expected_model_id=model_id, expected_dim=dim, expected_engine=engine
    )
    if loaded is None:
        searcher = build_searcher(
            session,
            dim=dim,
            model_id=model_id,
            exact_max=exact_max,
            second_model_id=second_model_id,
        )
        return searcher, None
    index, lexical, manifest = loaded
    searcher = Searcher(index, lexical, watermark=manifest.watermark)
    searcher.txid_floor = manifest.extra.get(TXID_FLOOR)
    present = [int(i) for i in index.ids()]
    stored = _stored_passages(session, present, model_id, second_model_id)
    searcher.set_metadata(stored.metas)
    if second_model_id is not None:
        second = SecondVectors(second_model_id)
        doc_of = {meta.passage_id: meta.doc_key for meta in stored.metas}
        second.add({pid: (doc_of[pid], vector) for pid, vector in stored.second.items()})
        searcher.use_second(second)
    dropped = searcher.drop_unknown()
    if dropped:
        log.info("dropped %d passages deleted since the snapshot", len(dropped))
    catch_up(session, searcher, model_id)
    return searcher, manifest


def save_searcher(
    searcher: Searcher, *, index_dir: Path, model_id: str, engine: str, keep: int
) -> Manifest:
    return write_snapshot(
        index_dir,
        searcher.index,
        searcher.lexical,
        model_id=model_id,
        engine=engine,
        watermark=searcher.watermark,
        keep=keep,
        extra={TXID_FLOOR: searcher.txid_floor} if searcher.txid_floor is not None else None,
    )


def refresh_snapshot(
    factory: sessionmaker[Session],
    *,
    index_dir: Path,
    dim: int,
    model_id: str,
    engine: str,
    exact_max: int,
    keep: int,
    rebuild: bool = False,
) -> Manifest:
    """Write a snapshot that includes every committed change (after an ingest or rebuild).

    The previous snapshot is reused and caught up; it is rebuilt from the database when asked
    to, or when the collection crossed the size at which the index type changes.
    """
    with factory() as session:
        searcher: Searcher | None = None
        if not rebuild:
            searcher, _ = open_searcher(
                session,
                index_dir=index_dir,
                dim=dim,
                model_id=model_id,
                engine=engine,
                exact_max=exact_max,
            )
            if searcher.index.kind != choose_kind(len(searcher), exact_max):
                searcher = None
        if searcher is None:
            searcher = build_searcher(session, dim=dim, model_id=model_id, exact_max=exact_max)
    return save_searcher(searcher, index_dir=index_dir, model_id=model_id, engine=engine, keep=keep)
