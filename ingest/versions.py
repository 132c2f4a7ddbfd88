"""Article versions: every write is kept with its author and a diff; one version is live."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Article, ArticleVersion, utcnow
from index.embedder import Vectors
from ingest.chunking import Chunk
from ingest.markdown import ParsedArticle
from ingest.second_passages import SecondEncoding
from ingest.store import drop_passages, save_article


def latest_version(session: Session, article: Article) -> ArticleVersion | None:
    return session.scalar(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article.id)
        .order_by(ArticleVersion.number.desc())
        .limit(1)
    )


def unified_diff(before: str, after: str, *, before_name: str, after_name: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=before_name,
        tofile=after_name,
    )
    return "".join(lines)


def add_version(
    session: Session,
    article: Article,
    *,
    markdown: str,
    content_hash: str,
    author: str,
    state: str,
    note: str | None = None,
) -> ArticleVersion:
    previous = latest_version(session, article)
    number = (previous.number if previous else 0) + 1
    version = ArticleVersion(
        article_id=article.id,
        number=number,
        state=state,
        markdown=markdown,
        content_hash=content_hash,
        author=author,
        created_at=utcnow(),
        diff=unified_diff(
            previous.markdown if previous else "",
            markdown,
            before_name=f"v{previous.number}" if previous else "empty",
            after_name=f"v{number}",
        ),
        note=note,
    )
    session.add(version)
    article.latest_hash = content_hash
    session.flush()
    return version


def mark_published(
    session: Session, article: Article, version: ArticleVersion, reviewer: str | None
) -> None:
    """The version becomes the live one; the one live before is superseded."""
    session.execute(
        update(ArticleVersion)
        .where(
            ArticleVersion.article_id == article.id,
            ArticleVersion.state == "published",
            ArticleVersion.id != version.id,
        )
        .values(state="superseded")
    )
    version.state = "published"
    version.reviewed_by = reviewer
    version.reviewed_at = utcnow()
    article.status = "published"
    session.flush()


def write_version(
    session: Session,
    parsed: ParsedArticle,
    *,
    author: str,
    state: str,
    chunks: Sequence[Chunk],
    vectors: Vectors | None,
    model_id: str,
    origin: str,
    reviewer: str | None = None,
    note: str | None = None,
    second: SecondEncoding | None = None,
) -> tuple[Article, ArticleVersion, bool]:
    """Record a new version and apply it as far as its state allows; (article, version, new).

    Published: it replaces the live content and its passages. Archived: the article leaves
    every search. Draft or in review: for an article already published the live content
    stays until the revision is approved; otherwise the draft is the article's content.
    """
    article = session.scalar(select(Article).where(Article.slug == parsed.slug))
    created = article is None
    if state in ("published", "archived") or article is None or article.status != "published":
        article, _ = save_article(
            session,
            parsed,
            chunks=chunks,
            vectors=vectors if state == "published" else None,
            model_id=model_id,
            origin=origin,
            status=state,
            second=second if state == "published" else None,
        )
    version = add_version(
        session,
        article,
        markdown=parsed.source,
        content_hash=parsed.content_hash,
        author=author,
        state=state,
        note=note,
    )
    if state == "published":
        mark_published(session, article, version, reviewer)
    return article, version, created


def archive(session: Session, article: Article) -> None:
    drop_passages(session, article)
    article.status = "archived"
    session.execute(
        update(ArticleVersion)
        .where(ArticleVersion.article_id == article.id, ArticleVersion.state == "published")
        .values(state="archived")
    )
    session.flush()
