"""Read knowledge-base articles as the caller may see them, and move them through review."""

from __future__ import annotations

from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import ArticleNotFound, Conflict, Forbidden, InvalidInput, VersionNotFound
from app.schemas.articles import ArticleList, ArticleOut, ArticleSummary
from app.schemas.versions import VersionDetail, VersionList, VersionOut
from app.services.audit import record
from app.services.refs import article_id, article_link
from app.services.visibility import Visibility, is_stale
from db.models import Article, ArticleVersion
from index.embedder import Embedder
from ingest.markdown import parse_article
from ingest.pipeline import article_chunks
from ingest.store import delete_article, save_article
from ingest.versions import (
    add_version,
    archive,
    latest_version,
    mark_published,
    write_version,
)

# Raw HTML in articles is shown as text, never executed; markdown-it also refuses
# javascript: and data: links by default.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_html(body: str) -> str:
    return str(_renderer.render(body))


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


def require_owner(principal: Principal, team: str | None) -> None:
    """Only specialists of the owning team, and admins, change a team's articles."""
    if not principal.owns(team):
        raise Forbidden(
            f"Only specialists of team {team or '(none)'} or admins may change this article."
        )


def propose(
    session: Session, *, principal: Principal, slug: str, markdown: str, must_be_new: bool
) -> tuple[Article, ArticleVersion, bool]:
    """A new version from the API: a draft (or in review, if its front matter says so).

    Nothing goes live without a reviewer; a published article keeps its live content
    until the revision is approved.
    """
    parsed = parse_article(slug, markdown)
    existing = session.scalar(select(Article).where(Article.slug == slug))
    if must_be_new and existing is not None:
        raise Conflict(f"An article with slug {slug!r} already exists; use PUT to replace it.")
    require_owner(principal, parsed.meta.team)
    if existing is not None:
        require_owner(principal, existing.team)
    state = "in_review" if parsed.meta.status == "in_review" else "draft"
    article, version, created = write_version(
        session,
        parsed,
        author=principal.name,
        state=state,
        chunks=[],
        vectors=None,
        model_id="",
        origin="api",
    )
    record(
        session,
        principal,
        "article.create" if created else "article.update",
        article_id(slug),
        version=version.number,
        state=state,
    )
    return article, version, created


def _version(session: Session, article: Article, number: int) -> ArticleVersion:
    version = session.scalar(
        select(ArticleVersion).where(
            ArticleVersion.article_id == article.id, ArticleVersion.number == number
        )
    )
    if version is None:
        raise VersionNotFound(f"Article {article.slug!r} has no version {number}.")
    return version


def _owned(session: Session, principal: Principal, slug: str) -> Article:
    article = get_article(session, slug)
    if not principal.owns(article.team):
        if article.status != "published" or principal.role == "contractor":
            raise ArticleNotFound(f"No article with slug {slug!r}.")
        require_owner(principal, article.team)
    return article


def submit(session: Session, *, principal: Principal, slug: str, number: int) -> Article:
    """draft -> in_review: the author or an owner asks for review."""
    article = get_article(session, slug)
    version = _version(session, article, number)
    if principal.name != version.author:
        article = _owned(session, principal, slug)
    if version.state != "draft":
        raise Conflict(f"Version {number} is {version.state}, not a draft.")
    version.state = "in_review"
    if article.status == "draft":
        article.status = "in_review"
    record(session, principal, "article.submit", article_id(slug), version=number)
    return article


def publish(
    session: Session,
    *,
    principal: Principal,
    slug: str,
    number: int,
    embedder: Embedder,
    max_words: int,
) -> Article:
    """in_review -> published, by an owner who is not the author; the version goes live."""
    article = _owned(session, principal, slug)
    version = _version(session, article, number)
    if version.state != "in_review":
        raise Conflict(f"Version {number} is {version.state}; submit it for review first.")
    if principal.name == version.author:
        raise Forbidden("A reviewer other than the author approves a version.")
    parsed = parse_article(slug, version.markdown)
    require_owner(principal, parsed.meta.team)
    chunks = article_chunks(parsed, max_words)
    vectors = embedder.encode_documents([chunk.embedding_text() for chunk in chunks])
    save_article(
        session,
        parsed,
        chunks=chunks,
        vectors=vectors,
        model_id=embedder.model_id,
        origin=article.origin,
        status="published",
    )
    newest = latest_version(session, article)
    article.latest_hash = newest.content_hash if newest else None
    mark_published(session, article, version, principal.name)
    record(session, principal, "article.publish", article_id(slug), version=number)
    return article


def reject(session: Session, *, principal: Principal, slug: str, number: int) -> Article:
    """in_review -> draft: the reviewer sends it back."""
    article = _owned(session, principal, slug)
    version = _version(session, article, number)
    if version.state != "in_review":
        raise Conflict(f"Version {number} is {version.state}, not in review.")
    version.state = "draft"
    if article.status == "in_review":
        article.status = "draft"
    record(session, principal, "article.reject", article_id(slug), version=number)
    return article


def archive_article(session: Session, *, principal: Principal, slug: str) -> Article:
    article = _owned(session, principal, slug)
    archive(session, article)
    record(session, principal, "article.archive", article_id(slug))
    return article


def restore(session: Session, *, principal: Principal, slug: str, number: int) -> ArticleVersion:
    """A new draft with the content of an old version; it goes live through review."""
    article = _owned(session, principal, slug)
    old = _version(session, article, number)
    if article.status != "published":
        # Nothing live to keep: the draft becomes the article's content, as on a first write.
        parsed = parse_article(slug, old.markdown)
        _, version, _ = write_version(
            session,
            parsed,
            author=principal.name,
            state="draft",
            chunks=[],
            vectors=None,
            model_id="",
            origin=article.origin,
            note=f"restored from version {number}",
        )
    else:
        version = add_version(
            session,
            article,
            markdown=old.markdown,
            content_hash=old.content_hash,
            author=principal.name,
            state="draft",
            note=f"restored from version {number}",
        )
    record(
        session,
        principal,
        "article.restore",
        article_id(slug),
        version=version.number,
        restored=number,
    )
    return version


def _version_out(version: ArticleVersion) -> VersionOut:
    return VersionOut(
        number=version.number,
        state=version.state,
        author=version.author,
        created_at=version.created_at,
        reviewed_by=version.reviewed_by,
        reviewed_at=version.reviewed_at,
        note=version.note,
    )


def list_versions(session: Session, *, principal: Principal, slug: str) -> VersionList:
    article = _owned(session, principal, slug)
    rows = session.scalars(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article.id)
        .order_by(ArticleVersion.number)
    )
    return VersionList(slug=slug, versions=[_version_out(v) for v in rows])


def version_detail(
    session: Session, *, principal: Principal, slug: str, number: int
) -> VersionDetail:
    article = _owned(session, principal, slug)
    version = _version(session, article, number)
    return VersionDetail(
        **_version_out(version).model_dump(), markdown=version.markdown, diff=version.diff
    )


def remove_article(session: Session, slug: str, *, principal: Principal) -> None:
    article = _owned(session, principal, slug)
    delete_article(session, article)
    record(session, principal, "article.delete", article_id(slug))


def check_status(status: str | None) -> None:
    if status is not None and status not in ("draft", "in_review", "published", "archived"):
        raise InvalidInput(
            f"Unknown status {status!r}.",
            details=[{"field": "status", "message": "draft, in_review, published or archived"}],
        )
