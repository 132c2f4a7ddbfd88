"""Re-embed stored passages whose vectors came from another model; fill in second vectors."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from db.models import Article, IndexChange, Passage, Ticket
from index.embedder import Embedder
from ingest.chunking import Chunk
from ingest.second_passages import encode_second

BATCH = 512


def reembed_stale_passages(
    factory: sessionmaker[Session], embedder: Embedder, *, show_progress: bool = False
) -> int:
    """Re-embed, batch by batch, every passage not embedded by `embedder`; returns how many."""
    with factory() as session:
        stale = (
            session.scalar(select(func.count()).where(Passage.model_id != embedder.model_id)) or 0
        )
    done = 0
    with tqdm(total=stale, unit="passage", disable=not show_progress or not stale) as bar:
        while True:
            with factory() as session:  # read; the model runs with no transaction open
                batch = session.execute(
                    select(Passage.id, Passage.heading_path, Passage.anchor, Passage.text)
                    .where(Passage.model_id != embedder.model_id)
                    .order_by(Passage.id)
                    .limit(BATCH)
                ).all()
            if not batch:
                break
            texts = [
                Chunk(tuple(path), anchor, text).embedding_text() for _, path, anchor, text in batch
            ]
            vectors = embedder.encode_documents(texts)
            with factory() as session, session.begin():
                for (passage_id, *_), vector in zip(batch, vectors, strict=True):
                    session.execute(
                        update(Passage)
                        .where(Passage.id == passage_id)
                        .values(
                            embedding=np.asarray(vector, dtype=np.float32).tobytes(),
                            model_id=embedder.model_id,
                        )
                    )
            done += len(batch)
            bar.update(len(batch))
    return done


def _document_rows(
    session: Session, after: int, model_id: str
) -> list[tuple[int, str, str | None, Chunk]]:
    """Up to BATCH passages after `after` lacking `model_id`'s second vectors, whole
    documents only (unless one document fills the batch): (id, owner, language, chunk)."""
    rows = session.execute(
        select(
            Passage.id,
            Passage.article_id,
            Passage.ticket_id,
            Passage.heading_path,
            Passage.anchor,
            Passage.text,
            Article.language,
            Ticket.language,
        )
        .outerjoin(Article, Passage.article_id == Article.id)
        .outerjoin(Ticket, Passage.ticket_id == Ticket.id)
        .where(
            Passage.id > after,
            or_(Passage.second_model_id.is_(None), Passage.second_model_id != model_id),
        )
        .order_by(Passage.id)
        .limit(BATCH)
    ).all()
    found = [
        (
            pid,
            f"article:{article_id}" if article_id is not None else f"ticket:{ticket_id}",
            article_lang if article_id is not None else ticket_lang,
            Chunk(tuple(path), anchor, text),
        )
        for pid, article_id, ticket_id, path, anchor, text, article_lang, ticket_lang in rows
    ]
    if len(found) == BATCH and found[0][1] != found[-1][1]:
        last = found[-1][1]
        found = [row for row in found if row[1] != last]
    return found


def fill_second_vectors(
    factory: sessionmaker[Session], second: Embedder, *, show_progress: bool = False
) -> int:
    """Give English documents' passages `second`'s vectors where they have none or another
    model's (stored before the second model was configured); returns how many.

    Each filled passage is logged as added again, so running replicas attach the vectors
    when they catch up (the main index keeps the passage it has).
    """
    done, after = 0, 0
    with tqdm(unit="passage", disable=not show_progress) as bar:
        while True:
            with factory() as session:  # read; the model runs with no transaction open
                rows = _document_rows(session, after, second.model_id)
            if not rows:
                break
            after = rows[-1][0]
            documents: dict[str, list[tuple[int, Chunk]]] = {}
            languages: dict[str, str | None] = {}
            for pid, owner, language, chunk in rows:
                documents.setdefault(owner, []).append((pid, chunk))
                languages[owner] = language
            owners = list(documents)
            encoded = encode_second(
                second, [(languages[o], [chunk for _, chunk in documents[o]]) for o in owners]
            )
            filled = [
                (pid, vector)
                for owner, encoding in zip(owners, encoded, strict=True)
                if encoding is not None
                for (pid, _), vector in zip(documents[owner], encoding.vectors, strict=True)
            ]
            if filled:
                with factory() as session, session.begin():
                    for pid, vector in filled:
                        updated = session.scalar(
                            update(Passage)
                            .where(Passage.id == pid)
                            .values(
                                second_model_id=second.model_id,
                                second_embedding=np.asarray(vector, dtype=np.float32).tobytes(),
                            )
                            .returning(Passage.id)
                        )
                        # A passage deleted since it was read is not logged as added: the
                        # replay keeps each passage's last operation, its removal.
                        if updated is not None:
                            session.add(IndexChange(passage_id=pid, op="add"))
                            done += 1
            bar.update(len(rows))
    return done
