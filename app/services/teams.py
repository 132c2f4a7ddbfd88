"""The team catalogue: charters (`kind: team` articles) read into structured team records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.schemas.teams import TeamList, TeamOut
from app.services.refs import article_link
from app.services.visibility import Visibility
from db.models import Article
from ingest.markdown import sections_of

_SECTIONS = {
    "charter": ("auftrag", "charter"),
    "skills": ("fähigkeit", "skill"),
    "escalation_criteria": ("eskalation", "escalation"),
    "first_level_checks": ("first level",),
}


def _optional_text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def team_of(article: Article) -> TeamOut:
    parts: dict[str, list[str]] = {key: [] for key in _SECTIONS}
    for section in sections_of(article.body, article.title):
        heading = section.heading_path[-1].lower() if len(section.heading_path) > 1 else ""
        for key, words in _SECTIONS.items():
            if any(word in heading for word in words):
                # "Escalate to X when:" introduces the list that follows; it is not a rule.
                parts[key].extend(b for b in section.blocks if not b.rstrip().endswith(":"))
                break
    front = article.front_matter
    return TeamOut(
        slug=article.slug,
        team=article.team or article.slug,
        name=str(front.get("name") or article.title),
        charter="\n\n".join(parts["charter"]),
        skills=parts["skills"],
        escalation_criteria=parts["escalation_criteria"],
        first_level_checks=parts["first_level_checks"],
        hours=_optional_text(front.get("hours")),
        contractor=_optional_text(front.get("contractor")),
        escalation_contact=_optional_text(front.get("escalation_contact")),
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
