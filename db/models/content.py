"""Articles and their versions, resolved tickets, passages and the change log indexes replay."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import FetchedValue

from db.models.base import Base, UtcDateTime, utcnow


class Article(Base):
    """A knowledge-base article: markdown with front matter, owned by a team."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), default="article")
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    audience: Mapped[str] = mapped_column(String(20), default="internal")
    language: Mapped[str] = mapped_column(String(10), default="de")
    tags: Mapped[list[str]] = mapped_column(default=list)
    owner: Mapped[str | None] = mapped_column(String(200))
    review_by: Mapped[date | None] = mapped_column(Date)
    front_matter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text)
    source_markdown: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # "files" for articles ingested from a folder (docs-as-code), "api" for ones written
    # through the API; a folder ingest deletes only its own articles that left the folder.
    origin: Mapped[str] = mapped_column(String(20), default="files")
    # draft | in_review | published | archived. Only published articles have passages, so
    # nothing else can ever reach a search.
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    companies: Mapped[list[str]] = mapped_column(default=list)
    # Hash of the newest version's source (it differs from content_hash while a revision of
    # a published article waits for review); a folder ingest compares against it.
    latest_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    passages: Mapped[list[Passage]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Passage.position"
    )


class Ticket(Base):
    """A resolved ticket from a ticket tool, with personal data masked."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_tickets_source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(Text, default="")
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    language: Mapped[str | None] = mapped_column(String(10))
    tags: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    passages: Mapped[list[Passage]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="Passage.position"
    )


class Passage(Base):
    """One searchable piece of an article or ticket, with its embedding.

    Ids come from an autoincrement that never reuses a value, so they can key the vector
    index: a changed document gets new passages and the old ids disappear.
    """

    __tablename__ = "passages"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    heading_path: Mapped[list[str]] = mapped_column(default=list)
    anchor: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    model_id: Mapped[str] = mapped_column(String(200))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    # The search's second model (index.second_standing): English passages only, else None.
    second_model_id: Mapped[str | None] = mapped_column(String(200))
    second_embedding: Mapped[bytes | None] = mapped_column(LargeBinary)

    article: Mapped[Article | None] = relationship(back_populates="passages")
    ticket: Mapped[Ticket | None] = relationship(back_populates="passages")


class IndexChange(Base):
    """Append-only log of passage additions and removals; indexes replay it to catch up."""

    __tablename__ = "index_changes"
    __table_args__ = (
        Index("ix_index_changes_passage", "passage_id"),
        Index("ix_index_changes_txid", "txid"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    passage_id: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # PostgreSQL fills in the writing transaction's id (migration 0004); a reader uses it to
    # re-read changes whose transaction was still open, since sequence values commit out of
    # order. NULL on SQLite, whose one writer at a time commits in sequence order.
    txid: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True, server_default=FetchedValue()
    )


class ArticleVersion(Base):
    """Every version of an article ever written, with who wrote and who approved it."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_article_versions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    # draft | in_review | published (the live one) | superseded | archived
    state: Mapped[str] = mapped_column(String(20))
    markdown: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    diff: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(String(500))
