"""Change articles through review: propose, submit, publish, reject, archive, restore, delete."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth import Principal
from app.errors import ArticleNotFound, Conflict, Forbidden, VersionNotFound
from app.schemas.versions import PendingVersion, VersionDetail, VersionList, VersionOut
from app.services.articles import get_article
from app.services.audit import record
from app.services.refs import article_id
from app.services.visibility import Visibility
from db.models import Article, ArticleVersion
from db.session import transaction
from index.embedder import Embedder
from ingest.markdown import ParsedArticle, parse_article
from ingest.pipeline import article_chunks
from ingest.second_passages import encode_second
from ingest.store import delete_article, save_article
from ingest.versions import (
    add_version,
    archive,
    latest_version,
    mark_published,
    write_version,
)


def require_owner(principal: Principal, team: str | None) -> None:
    """Only specialists of the owning team, and admins, change a team's articles."""
    if not principal.owns(team):
        raise Forbidden(
            f"Only specialists of team {team or '(none)'} or admins may change this article."
        )


def _owned(session: Session, principal: Principal, slug: str) -> Article:
    """The article for a change by `principal`; a 404 where it may not even see it."""
    article = get_article(session, slug)
    if not principal.owns(article.team):
        if article.status != "published" or principal.role == "contractor":
            raise ArticleNotFound(f"No article with slug {slug!r}.")
        require_owner(principal, article.team)
    return article


def editable_article(session: Session, *, principal: Principal, slug: str) -> Article:
    """The article for an editor: 404 where the caller may not see it (contractors never
    edit), 403 where it may read but not change it, as every write answers."""
    return _owned(session, principal, slug)


def propose(
    session: Session, *, principal: Principal, slug: str, markdown: str, must_be_new: bool
) -> tuple[Article, ArticleVersion, bool]:
    """A new version from the API: a draft (or in review, if its front matter says so).

    Nothing goes live without a reviewer; a published article keeps its live content
    until the revision is approved.
    """
    parsed = parse_article(slug, markdown)
    existing = session.scalar(select(Article).where(Article.slug == slug))
    if existing is not None and not Visibility(principal).can_read(existing):
        # Hidden looks like absent: first the answer a free slug gets, then (the slug is
        # taken all the same) a conflict that names nothing of the hidden article.
        require_owner(principal, parsed.meta.team)
        raise Conflict(f"An article with slug {slug!r} already exists.")
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


_STATE_NAMES = {"draft": "a draft", "in_review": "in review"}


def _move(
    session: Session,
    principal: Principal,
    article: Article,
    version: ArticleVersion,
    *,
    to: Literal["draft", "in_review"],
    action: str,
) -> Article:
    """Between draft and in_review; an article that is not live moves with its version."""
    source = "draft" if to == "in_review" else "in_review"
    if version.state != source:
        raise Conflict(f"Version {version.number} is {version.state}, not {_STATE_NAMES[source]}.")
    version.state = to
    if article.status == source:
        article.status = to
    record(session, principal, action, article_id(article.slug), version=version.number)
    return article


def submit(session: Session, *, principal: Principal, slug: str, number: int) -> Article:
    """draft -> in_review: the author or an owner asks for review."""
    article = get_article(session, slug)
    authored = session.scalar(
        select(ArticleVersion).where(
            ArticleVersion.article_id == article.id,
            ArticleVersion.number == number,
            ArticleVersion.author == principal.name,
        )
    )
    if authored is None:
        article = _owned(session, principal, slug)  # 404 before any word about versions
    version = _version(session, article, number)
    if principal.name != version.author:
        article = _owned(session, principal, slug)
    return _move(session, principal, article, version, to="in_review", action="article.submit")


def _publishable(
    session: Session, principal: Principal, slug: str, number: int
) -> tuple[Article, ArticleVersion, ParsedArticle]:
    """The article and its version `principal` may publish now, parsed; else why not."""
    article = _owned(session, principal, slug)
    version = _version(session, article, number)
    if version.state != "in_review":
        raise Conflict(f"Version {number} is {version.state}; submit it for review first.")
    if principal.name == version.author:
        raise Forbidden("A reviewer other than the author approves a version.")
    parsed = parse_article(slug, version.markdown)
    require_owner(principal, parsed.meta.team)
    return article, version, parsed


def publish(
    factory: sessionmaker[Session],
    *,
    principal: Principal,
    slug: str,
    number: int,
    embedder: Embedder,
    max_words: int,
    second: Embedder | None = None,
) -> None:
    """in_review -> published, by an owner who is not the author; the version goes live
    (English passages embedded by the search's `second` model too).

    The passages are embedded between two transactions: the checks read, then the write
    transaction opens only once the vectors exist. A write transaction kept open while the
    model runs would hold back every replica's change feed (ingest.index_sync.catch_up)
    and a connection for as long. The write checks again, so a version published, sent
    back or changed meanwhile is refused as it would have been.
    """
    with factory() as session:
        _, _, parsed = _publishable(session, principal, slug, number)
    chunks = article_chunks(parsed, max_words)
    vectors = embedder.encode_documents([chunk.embedding_text() for chunk in chunks])
    (second_vectors,) = encode_second(second, [(parsed.meta.language, chunks)])
    with transaction(factory) as session:
        article, version, current = _publishable(session, principal, slug, number)
        if current.content_hash != parsed.content_hash:
            raise Conflict(f"Version {number} changed while it was published; try again.")
        save_article(
            session,
            parsed,
            chunks=chunks,
            vectors=vectors,
            model_id=embedder.model_id,
            origin=article.origin,
            status="published",
            second=second_vectors,
        )
        newest = latest_version(session, article)
        article.latest_hash = newest.content_hash if newest else None
        mark_published(session, article, version, principal.name)
        record(session, principal, "article.publish", article_id(slug), version=number)


def reject(session: Session, *, principal: Principal, slug: str, number: int) -> Article:
    """in_review -> draft: the reviewer sends it back."""
    article = _owned(session, principal, slug)
    version = _version(session, article, number)
    return _move(session, principal, article, version, to="draft", action="article.reject")


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


def pending_versions(session: Session, *, principal: Principal) -> list[PendingVersion]:
    """Drafts and versions in review of the articles `principal` owns: the review queue."""
    rows = session.execute(
        select(Article, ArticleVersion)
        .join(ArticleVersion, ArticleVersion.article_id == Article.id)
        .where(ArticleVersion.state.in_(("draft", "in_review")))
        .order_by(Article.slug, ArticleVersion.number)
    )
    return [
        PendingVersion(
            slug=article.slug,
            title=article.title,
            team=article.team,
            number=version.number,
            state=version.state,
            author=version.author,
            created_at=version.created_at,
        )
        for article, version in rows
        if principal.owns(article.team)
    ]
