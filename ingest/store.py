"""Write documents and their embedded passages to the database, logging index changes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Article, IndexChange, Passage, Ticket, utcnow
from db.ticket_rollups import place, ticket_saved
from index.embedder import Vectors
from ingest.chunking import Chunk
from ingest.markdown import ParsedArticle
from ingest.second_passages import SecondEncoding
from ingest.tickets import ResolvedTicket


def _log(session: Session, passage_ids: Sequence[int], op: str) -> None:
    session.add_all(IndexChange(passage_id=pid, op=op) for pid in passage_ids)


def add_passages(
    session: Session,
    *,
    chunks: Sequence[Chunk],
    vectors: Vectors,
    model_id: str,
    article: Article | None = None,
    ticket: Ticket | None = None,
    second: SecondEncoding | None = None,
) -> list[Passage]:
    if len(chunks) != len(vectors) or (second is not None and len(second.vectors) != len(chunks)):
        raise ValueError("one vector per chunk expected")
    passages = [
        Passage(
            article=article,
            ticket=ticket,
            position=position,
            heading_path=list(chunk.heading_path),
            anchor=chunk.anchor,
            text=chunk.text,
            model_id=model_id,
            embedding=np.asarray(vector, dtype=np.float32).tobytes(),
            second_model_id=second.model_id if second is not None else None,
            second_embedding=(
                np.asarray(second.vectors[position], dtype=np.float32).tobytes()
                if second is not None
                else None
            ),
        )
        for position, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
    ]
    session.add_all(passages)
    session.flush()
    _log(session, [p.id for p in passages], "add")
    return passages


def drop_passages(session: Session, owner: Article | Ticket) -> None:
    """Delete all passages of a document (delete-orphan does it) and log their removal."""
    _log(session, [p.id for p in owner.passages], "remove")
    owner.passages.clear()
    session.flush()


def save_article(
    session: Session,
    parsed: ParsedArticle,
    *,
    chunks: Sequence[Chunk],
    vectors: Vectors | None,
    model_id: str,
    origin: str,
    status: str = "published",
    second: SecondEncoding | None = None,
) -> tuple[Article, bool]:
    """Create or replace an article and its passages; returns (article, created).

    Only a published article gets passages (`vectors`); any other status keeps none, so a
    draft or an archived article can never reach a search.
    """
    article = session.scalar(select(Article).where(Article.slug == parsed.slug))
    created = article is None
    if article is None:
        article = Article(slug=parsed.slug, created_at=utcnow())
        session.add(article)
    else:
        drop_passages(session, article)
    meta = parsed.meta
    article.title = meta.title
    article.kind = meta.kind
    article.team = meta.team
    article.audience = meta.audience
    article.language = meta.language
    article.tags = list(meta.tags)
    article.owner = meta.owner
    article.review_by = meta.review_by
    article.front_matter = parsed.front_matter
    article.body = parsed.body
    article.source_markdown = parsed.source
    article.content_hash = parsed.content_hash
    article.origin = origin
    article.status = status
    article.companies = list(meta.companies)
    article.latest_hash = parsed.content_hash
    article.updated_at = utcnow()
    session.flush()
    if status == "published":
        if vectors is None:
            raise ValueError("a published article needs its passage vectors")
        add_passages(
            session,
            chunks=chunks,
            vectors=vectors,
            model_id=model_id,
            article=article,
            second=second,
        )
    return article, created


def delete_article(session: Session, article: Article) -> None:
    drop_passages(session, article)
    session.delete(article)
    session.flush()


def save_ticket(
    session: Session,
    resolved: ResolvedTicket,
    *,
    content_hash: str,
    chunks: Sequence[Chunk],
    vectors: Vectors,
    model_id: str,
    existing: Ticket | None,
    second: SecondEncoding | None = None,
) -> Ticket:
    ticket = existing
    before = None if existing is None else place(existing.resolved_at, existing.team)
    if ticket is None:
        ticket = Ticket(source=resolved.source, external_id=resolved.id)
        session.add(ticket)
    else:
        drop_passages(session, ticket)
    ticket.title = resolved.title
    ticket.description = resolved.description
    ticket.resolution = resolved.resolution
    ticket.team = resolved.team
    ticket.language = resolved.language
    ticket.tags = list(resolved.tags)
    ticket.created_at = resolved.created_at
    ticket.resolved_at = resolved.resolved_at
    ticket.content_hash = content_hash
    ticket.ingested_at = utcnow()
    session.flush()
    ticket_saved(session, ticket, before, created=existing is None)
    add_passages(
        session, chunks=chunks, vectors=vectors, model_id=model_id, ticket=ticket, second=second
    )
    return ticket
