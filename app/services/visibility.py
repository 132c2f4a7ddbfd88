"""Who sees what: the one place that decides, for the index and for database reads alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from db.models import Article
from index.searcher import FilterValue
from ingest.markdown import company_key, visibility_key


def contractor_may_see(company: str | None, audience: str, companies: list[str]) -> bool:
    """Public articles, and partner articles for every partner or naming this company."""
    if audience == "public":
        return True
    if audience != "partners" or company is None:
        return False
    return not companies or company_key(company) in {company_key(c) for c in companies}


@dataclass(frozen=True)
class Visibility:
    """What one caller may see; `filters` go into every index search, before the cut to k."""

    principal: Principal
    filters: dict[str, FilterValue] = field(default_factory=dict)

    @property
    def sees_tickets(self) -> bool:
        return self.principal.is_staff

    def sees_audience(self, article: Article) -> bool:
        if self.principal.is_staff:
            return True
        return contractor_may_see(self.principal.company, article.audience, article.companies)

    def can_read(self, article: Article) -> bool:
        """Published and in the audience; owners (and admins) also read drafts and archives."""
        if article.status != "published":
            return self.principal.owns(article.team)
        return self.sees_audience(article)

    def can_search(self, article: Article) -> bool:
        return article.status == "published" and self.sees_audience(article)


def visibility_for(session: Session, principal: Principal) -> Visibility:
    """Staff see every published passage (only published articles have passages at all);
    a contractor sees public ones, partner ones for all partners, and the named-partner
    groups that include the contractor's company (read from the database, so exact)."""
    if principal.is_staff:
        return Visibility(principal)
    allowed = {"public", "partners"}
    if principal.company:
        mine = company_key(principal.company)
        rows = session.scalars(
            select(Article.companies).where(
                Article.audience == "partners", Article.status == "published"
            )
        )
        for companies in rows:
            if companies and mine in {company_key(c) for c in companies}:
                allowed.add(visibility_key("partners", companies))
    return Visibility(principal, {"visible_to": sorted(allowed)})


def is_stale(article: Article, today: date | None = None) -> bool:
    """Past its review date: flagged wherever it is shown, listed for its owners."""
    return article.review_by is not None and article.review_by < (today or date.today())
