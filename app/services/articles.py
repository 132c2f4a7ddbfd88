"""Read knowledge-base articles as the caller may see them: list, summaries, detail, HTML."""

from __future__ import annotations

from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ArticleNotFound, InvalidInput
from app.schemas.articles import ArticleList, ArticleOut, ArticleSummary
from app.services.refs import article_link
from app.services.visibility import Visibility, is_stale
from db.models import Article
from ingest.errors import IngestError
from ingest.markdown import split_front_matter
from ingest.versions import latest_version

# Raw HTML in articles is shown as text, never executed; markdown-it also refuses
# javascript: and data: links by default.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_html(body: str) -> str:
    return str(_renderer.render(body))


def preview_html(markdown: str) -> str:
    """An article's source (front matter and body) rendered as its page will show it;
    source without valid front matter previews as plain markdown."""
    try:
        _, body = split_front_matter(markdown)
    except IngestError:
        body = markdown
    return render_html(body)


def _pending(session: Session, article: Article) -> int | None:
    newest = latest_version(session, article)
    return newest.number if newest and newest.state in ("draft", "in_review") else None


def summary_of(article: Article, pending: int | None = None) -> ArticleSummary:
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
        status=article.status,
        companies=list(article.companies),
        stale=is_stale(article),
        pending_version=pending,
    )


def detail_of(session: Session, article: Article) -> ArticleOut:
    return ArticleOut(
        **summary_of(article, _pending(session, article)).model_dump(),
        front_matter=dict(article.front_matter),
        markdown=article.source_markdown,
        html=render_html(article.body),
    )


def get_article(session: Session, slug: str) -> Article:
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        raise ArticleNotFound(f"No article with slug {slug!r}.")
    return article


def read_article(session: Session, slug: str, visibility: Visibility) -> Article:
    """The article if the caller may read it; otherwise the same 404 as a missing one."""
    article = get_article(session, slug)
    if not visibility.can_read(article):
        raise ArticleNotFound(f"No article with slug {slug!r}.")
    return article


def list_articles(
    session: Session,
    visibility: Visibility,
    *,
    team: str | None,
    language: str | None,
    kind: str | None,
    status: str | None,
    stale: bool | None,
    limit: int,
    offset: int,
) -> ArticleList:
    """Articles the caller may read, filtered; audience rules are applied before paging."""
    query = select(Article)
    if team:
        query = query.where(Article.team == team)
    if language:
        query = query.where(Article.language == language)
    if kind:
        query = query.where(Article.kind == kind)
    if status:
        query = query.where(Article.status == status)
    if not visibility.principal.is_staff:
        query = query.where(Article.status == "published", Article.audience != "internal")
    readable = [
        article
        for article in session.scalars(query.order_by(Article.slug))
        if visibility.can_read(article) and (stale is None or is_stale(article) == stale)
    ]
    page = readable[offset : offset + limit]
    return ArticleList(articles=[summary_of(a) for a in page], total=len(readable))


def check_status(status: str | None) -> None:
    if status is not None and status not in ("draft", "in_review", "published", "archived"):
        raise InvalidInput(
            f"Unknown status {status!r}.",
            details=[{"field": "status", "message": "draft, in_review, published or archived"}],
        )
