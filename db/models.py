"""Database tables: the source of truth from which every index is derived."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.schema import FetchedValue
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a value without an offset is taken as UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and read back with its offset, on every database.

    SQLite keeps no offset: without this, 09:00+01:00 would be stored as 09:00 and read
    back without an offset. The column type stays `DateTime(timezone=True)`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


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
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
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


class ApiKey(Base):
    """An API key: who calls, in which role. Only a SHA-256 of the key is stored.

    Keys are 256-bit random tokens, so a plain SHA-256 cannot be reversed or guessed; a slow
    password hash would only cost time on every request. `prefix` finds the row to compare.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    teams: Mapped[list[str]] = mapped_column(default=list)
    company: Mapped[str | None] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AuditEntry(Base):
    """One write: who (key id and name), what, on which target, when."""

    __tablename__ = "audit_log"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50), index=True)
    target: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


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


class Feedback(Base):
    """Helpful or not, from whoever used a suggestion or an article."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(500), index=True)
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    context: Mapped[str] = mapped_column(String(20))
    helpful: Mapped[bool] = mapped_column()
    flag: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Task(Base):
    """Work for an owning team, opened by negative feedback or a flag."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    reason: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)


class SolutionLink(Base):
    """A resolved ticket was solved by an article: counts as a reuse of the article."""

    __tablename__ = "solution_links"
    __table_args__ = (
        UniqueConstraint("ticket_source", "ticket_id", "article_slug", name="uq_solution_links"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_source: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(200))
    article_slug: Mapped[str] = mapped_column(String(200), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class EscalationOutcome(Base):
    """The team an escalated ticket really ended with, against the team suggested."""

    __tablename__ = "escalation_outcomes"
    __table_args__ = (
        UniqueConstraint("ticket_source", "ticket_id", name="uq_escalation_outcomes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_source: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(200))
    suggested_team: Mapped[str | None] = mapped_column(String(100), index=True)
    final_team: Mapped[str] = mapped_column(String(100), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ConnectorConfig(Base):
    """A ticket tool Stellwerk is plugged into. `secret` and `token` are kept to sign and
    call with, and never leave the service: no API body nor CLI listing shows them."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    tool: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(Text)
    token: Mapped[str | None] = mapped_column(Text)
    write_back: Mapped[bool] = mapped_column(default=False)
    set_group: Mapped[bool] = mapped_column(default=False)
    group_map: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where the last history import stopped (a page, an offset or a token), to resume.
    import_cursor: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class InboundDelivery(Base):
    """One webhook delivery taken in, by the tool's delivery id: a replay changes nothing."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (
        UniqueConstraint("connector_id", "delivery_id", name="uq_inbound_deliveries"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(200))
    ticket_key: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ToolTicket(Base):
    """What Stellwerk knows of one ticket in a tool: its newest state and the suggestion."""

    __tablename__ = "tool_tickets"
    __table_args__ = (UniqueConstraint("connector_id", "ticket_key", name="uq_tool_tickets"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    # The id the tool's API takes (Zammad ticket.id) and the number people see and Stellwerk
    # stores the resolved ticket under (Zammad ticket.number); the same for Jira and GLPI.
    ticket_key: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(200), index=True)
    closed: Mapped[bool] = mapped_column(default=False)
    tool_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    suggested_team: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None] = mapped_column(Float)
    suggested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OutboxItem(Base):
    """A write-back or notification waiting to go out, retried with backoff until sent.

    status: pending | sending (an attempt began; after a crash it is checked before a
    resend) | delivered | failed (gave up after the last attempt)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connector: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ContractorEndpoint(Base):
    """Where a contractor firm is told that one of its teams' tickets reached it."""

    __tablename__ = "contractor_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SuggestionEvent(Base):
    """One suggestion answered (API, console page or connector): what KPIs are computed from.

    No text of the ticket is kept, only the decision, so nothing personal is stored."""

    __tablename__ = "suggestion_events"
    __table_args__ = (
        Index("ix_suggestion_events_ticket", "ticket_source", "ticket_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(20))  # api | page | connector
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    company: Mapped[str | None] = mapped_column(String(200), index=True)
    ticket_source: Mapped[str | None] = mapped_column(String(100))
    ticket_id: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(30))
    escalation_team: Mapped[str | None] = mapped_column(String(100))


class SuggestionShown(Base):
    """A solution a suggestion showed, with its rank (1 = first)."""

    __tablename__ = "suggestion_shown"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("suggestion_events.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(500), index=True)


class SearchEvent(Base):
    """One search answered, with its query masked as ingest masks tickets."""

    __tablename__ = "search_events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    company: Mapped[str | None] = mapped_column(String(200), index=True)
    query: Mapped[str] = mapped_column(Text)
    results: Mapped[int] = mapped_column(Integer)
    top_score: Mapped[float | None] = mapped_column(Float)


class RoutingModelRow(Base):
    """A trained routing model: the elected trainer stores it, every replica serves it."""

    __tablename__ = "routing_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime())
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
