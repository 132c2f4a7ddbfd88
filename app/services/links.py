"""Solution links: a resolved ticket was solved by an article (a reuse of the article)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.schemas.links import LinkIn, LinkList, LinkOut
from app.services.audit import record
from app.services.feedback import target_team
from app.services.refs import article_id
from app.services.visibility import Visibility
from db.fix_rollups import linked
from db.kpi_rollups import link_added
from db.models import Article, SolutionLink, utcnow
from db.session import page
from db.ticket_rollups import ticket_linked


def link_solution(
    session: Session, *, principal: Principal, visibility: Visibility, link: LinkIn
) -> tuple[LinkOut, bool]:
    """A resolved ticket was solved by an article (a reuse); (link, created)."""
    principal.require("agent", "specialist", "integration", "admin")
    target_team(session, visibility, article_id(link.article_slug))
    row = session.scalar(
        select(SolutionLink).where(
            SolutionLink.ticket_source == link.ticket_source,
            SolutionLink.ticket_id == link.ticket_id,
            SolutionLink.article_slug == link.article_slug,
        )
    )
    created = row is None
    if row is None:
        row = SolutionLink(**link.model_dump(), actor=principal.name, created_at=utcnow())
        session.add(row)
        session.flush()
        link_added(session, row)
        linked(session, row)
        ticket_linked(session, row)
        record(
            session,
            principal,
            "link.create",
            article_id(link.article_slug),
            ticket=f"{link.ticket_source}:{link.ticket_id}",
        )
    return _link_out(row), created


def _link_out(row: SolutionLink) -> LinkOut:
    return LinkOut(
        ticket_source=row.ticket_source,
        ticket_id=row.ticket_id,
        article_slug=row.article_slug,
        actor=row.actor,
        created_at=row.created_at,
    )


def list_links(
    session: Session,
    *,
    principal: Principal,
    visibility: Visibility,
    article_slug: str | None,
    limit: int,
    offset: int,
) -> LinkList:
    """Links the caller may see: none naming an article hidden from it (staff only, so
    the hidden ones are unpublished articles of teams it does not own)."""
    principal.require("agent", "specialist", "integration", "admin")
    hidden = [
        article.slug
        for article in session.scalars(select(Article).where(Article.status != "published"))
        if not visibility.can_read(article)
    ]
    query = select(SolutionLink)
    if hidden:
        query = query.where(SolutionLink.article_slug.not_in(hidden))
    if article_slug:
        query = query.where(SolutionLink.article_slug == article_slug)
    rows, total = page(session, query, SolutionLink.id, limit=limit, offset=offset)
    return LinkList(links=[_link_out(r) for r in rows], total=total)
