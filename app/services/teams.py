"""The team catalogue: charters (`kind: team` articles) read into structured team records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.schemas.teams import TeamList, TeamOut
from app.services.refs import article_link
from app.services.visibility import Visibility
from db.models import Article
from routing.charters import charter_of_article


def team_of(article: Article) -> TeamOut:
    """A charter article as the team catalogue shows it (read by routing.charters)."""
    charter = charter_of_article(article)
    return TeamOut(
        slug=charter.slug,
        team=charter.team,
        name=charter.name,
        charter="\n\n".join(charter.texts("charter")),
        skills=charter.texts("skills"),
        escalation_criteria=charter.texts("escalation_criteria"),
        first_level_checks=charter.texts("first_level_checks"),
        hours=charter.hours,
        contractor=charter.contractor,
        escalation_contact=charter.escalation_contact,
        language=article.language,
        link=article_link(article.slug),
    )


def list_teams(session: Session, visibility: Visibility | None = None) -> TeamList:
    """Every published team charter the caller may see, ordered by team key."""
    articles = session.scalars(
        select(Article)
        .where(Article.kind == "team", Article.status == "published")
        .order_by(Article.team, Article.slug)
    )
    return TeamList(
        teams=[
            team_of(article)
            for article in articles
            if visibility is None or visibility.can_search(article)
        ]
    )
