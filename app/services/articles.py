"""Read and write knowledge-base articles."""

from __future__ import annotations

from markdown_it import MarkdownIt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import ArticleNotFound, Conflict, Forbidden
from app.models import Article
from app.schemas import ArticleList, ArticleOut, ArticleSummary
from app.services.audit import record
from app.services.links import article_id, article_link
from index.embedder import Embedder
from ingest.markdown import parse_article
from ingest.pipeline import article_chunks
from ingest.store import delete_article, save_article

# Raw HTML in articles is shown as text, never executed; markdown-it also refuses
# javascript: and data: links by default.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_html(body: str) -> str:
    return str(_renderer.render(body))


def summary_of(article: Article) -> ArticleSummary:
    return ArticleSummary(
        slug=article.slug,
        title=article.title,
        kind=article.kind,
        team=article.team,
        audience=article.audience,
        language=article.language,
        tags=list(article.tags),
        owner=article.owner,
        review_by=article.review_by,
        updated_at=article.updated_at,
        link=article_link(article.slug),
    )


def detail_of(article: Article) -> ArticleOut:
    return ArticleOut(
        **summary_of(article).model_dump(),
        front_matter=dict(article.front_matter),
        markdown=article.source_markdown,
        html=render_html(article.body),
    )


def get_article(session: Session, slug: str) -> Article:
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        raise ArticleNotFound(f"No article with slug {slug!r}.")
    return article


def list_articles(
    session: Session,
    *,
    team: str | None,
    language: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> ArticleList:
    query = select(Article)
    if team:
        query = query.where(Article.team == team)
    if language:
        query = query.where(Article.language == language)
    if kind:
        query = query.where(Article.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Article.slug).limit(limit).offset(offset))
    return ArticleList(articles=[summary_of(a) for a in rows], total=total)


def write_article(
    session: Session,
    *,
    principal: Principal,
    slug: str,
    markdown: str,
    embedder: Embedder,
    max_words: int,
    must_be_new: bool,
) -> tuple[Article, bool]:
    """Parse, embed and store an article in the caller's transaction; (article, created)."""
    parsed = parse_article(slug, markdown)
    existing = session.scalar(select(Article).where(Article.slug == slug))
    if must_be_new and existing is not None:
        raise Conflict(f"An article with slug {slug!r} already exists; use PUT to replace it.")
    require_owner(principal, parsed.meta.team)
    if existing is not None:
        require_owner(principal, existing.team)
    chunks = article_chunks(parsed, max_words)
    vectors = embedder.encode_documents([chunk.embedding_text() for chunk in chunks])
    article, created = save_article(
        session, parsed, chunks=chunks, vectors=vectors, model_id=embedder.model_id, origin="api"
    )
    record(session, principal, "article.create" if created else "article.update", article_id(slug))
    return article, created


def require_owner(principal: Principal, team: str | None) -> None:
    """Only specialists of the owning team, and admins, change a team's articles."""
    if not principal.owns(team):
        raise Forbidden(
            f"Only specialists of team {team or '(none)'} or admins may change this article."
        )


def remove_article(session: Session, slug: str, *, principal: Principal) -> None:
    article = get_article(session, slug)
    require_owner(principal, article.team)
    delete_article(session, article)
    record(session, principal, "article.delete", article_id(slug))
