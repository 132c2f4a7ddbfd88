"""Contractor firms as the figures see them: the teams they work for (their charters'
`contractor`), the articles shared with them by name, and the spellings of their keys.

The maps are small (one row per charter, shared article or key): a query filters by them
(IN lists) and buckets by them (a CASE), and its few grouped rows are folded per firm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, null, select
from sqlalchemy.orm import Session

from app.auth import Principal
from db.models import ApiKey, Article
from ingest.markdown import company_key
from routing.charters import charter_of_article


@dataclass(frozen=True)
class Firms:
    """Every contractor firm by its canonical name (the first spelling met)."""

    names: dict[str, str] = field(default_factory=dict)  # company_key -> name
    teams: dict[str, str] = field(default_factory=dict)  # team -> firm
    shared: list[tuple[str, str]] = field(default_factory=list)  # (article:slug, firm)
    spellings: dict[str, str] = field(default_factory=dict)  # a key's company -> firm

    def firm_of(self, company: str | None) -> str | None:
        return None if company is None else self.names.get(company_key(company))

    def teams_of(self, firm: str) -> list[str]:
        return sorted(team for team, owner in self.teams.items() if owner == firm)

    def visible(self, principal: Principal) -> list[str]:
        """The firms whose figures the caller may see: all for staff, its own for a firm."""
        if principal.is_staff:
            return sorted(set(self.names.values()))
        own = self.firm_of(principal.company)
        return [own] if own else []


def _name(names: dict[str, str], company: str) -> str:
    return names.setdefault(company_key(company), " ".join(company.split()))


def load_firms(session: Session) -> Firms:
    """Firms from the published charters, the partner articles naming them and the keys."""
    names: dict[str, str] = {}
    teams: dict[str, str] = {}
    charters = session.scalars(
        select(Article).where(Article.kind == "team", Article.status == "published")
    )
    for article in charters:
        charter = charter_of_article(article)
        if charter.contractor:
            teams[charter.team] = _name(names, charter.contractor)
    shared: list[tuple[str, str]] = []
    named = session.execute(
        select(Article.slug, Article.companies).where(
            Article.audience == "partners", Article.status == "published"
        )
    )
    for slug, companies in named:
        shared += [(f"article:{slug}", _name(names, c)) for c in companies or []]
    spellings: dict[str, str] = {}
    for company in session.scalars(
        select(ApiKey.company).where(ApiKey.company.is_not(None)).distinct()
    ):
        if company:
            spellings[company] = _name(names, company)
    return Firms(names, teams, shared, spellings)


def firm_of_team(firms: Firms, column: Any, visible: list[str]) -> ColumnElement[Any]:
    """A team column as its firm's name (NULL for a team of no visible firm): a CASE the
    GROUP BY can bucket by, so no join with a literal table is needed."""
    mapping = {team: firm for team, firm in firms.teams.items() if firm in visible}
    if not mapping:
        return null()
    return case(mapping, value=column, else_=null())


def visible_teams(firms: Firms, visible: list[str]) -> list[str]:
    return sorted(team for team, firm in firms.teams.items() if firm in visible)


def shared_with(firms: Firms, visible: list[str]) -> dict[str, list[str]]:
    """article:slug -> the visible firms it is shared with by name."""
    targets: dict[str, list[str]] = {}
    for target, firm in firms.shared:
        if firm in visible:
            targets.setdefault(target, []).append(firm)
    return targets


def counts_for(firms: Firms, firm: str, company: str | None) -> bool:
    """A mark or rating by `company` counts for `firm`: staff's (no company) or its own."""
    return company is None or firms.firm_of(company) == firm
