"""Suggest solutions and a team for a new ticket, with the escalation rule that applies."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Article
from app.schemas import (
    Escalation,
    GuidelineRef,
    Solution,
    SuggestRequest,
    TeamScore,
    TeamSuggestion,
)
from app.services.links import article_link
from app.services.search import ResolvedHit, SnippetMaker, resolve_hits, snippet_maker
from index.fusion import System
from ingest.index_sync import LiveIndex
from ingest.markdown import sections_of

# Softmax temperature over cosine scores. Embedding scores of one model sit in a narrow
# band, so a small temperature is what separates a close neighbour from a distant one.
VOTE_TEMPERATURE = 0.02
ARTICLE_VOTE_WEIGHT = 0.5
CHARTER_VOTE_WEIGHT = 1.0
_ESCALATION_HEADINGS = ("eskalation", "escalation")


def ticket_text(request: SuggestRequest) -> str:
    return f"{request.title}\n{request.description}".strip()


def team_vote(
    ticket_hits: Sequence[ResolvedHit], article_hits: Sequence[ResolvedHit]
) -> dict[str, float]:
    """Similarity-weighted vote of resolved tickets, articles and team charters."""
    scored: list[tuple[str, float, float]] = []
    for item in ticket_hits:
        if item.ticket is not None and item.ticket.team:
            scored.append((item.ticket.team, item.hit.score, 1.0))
    for item in article_hits:
        if item.article is not None and item.article.team:
            weight = CHARTER_VOTE_WEIGHT if item.article.kind == "team" else ARTICLE_VOTE_WEIGHT
            scored.append((item.article.team, item.hit.score, weight))
    if not scored:
        return {}
    best = max(score for _, score, _ in scored)
    votes: dict[str, float] = defaultdict(float)
    for team, score, weight in scored:
        votes[team] += weight * math.exp((score - best) / VOTE_TEMPERATURE)
    total = sum(votes.values())
    return {team: vote / total for team, vote in votes.items()}


def escalation_criteria(article: Article) -> list[str]:
    criteria: list[str] = []
    for section in sections_of(article.body, article.title):
        if any(
            word in h.lower() for h in section.heading_path[1:] for word in _ESCALATION_HEADINGS
        ):
            criteria.extend(section.blocks)
    return criteria


def _charters(session: Session) -> dict[str, Article]:
    rows = session.scalars(select(Article).where(Article.kind == "team"))
    return {a.team: a for a in rows if a.team}


def _solution(item: ResolvedHit, snippet_of: SnippetMaker) -> Solution:
    hit = item.to_search_hit(snippet_of)
    resolution = item.ticket.resolution if item.ticket is not None else None
    return Solution(**hit.model_dump(), resolution=resolution or None)


def suggest(
    session: Session,
    live: LiveIndex,
    request: SuggestRequest,
    *,
    solutions: int,
    neighbours: int,
    min_confidence: float,
) -> tuple[list[Solution], TeamSuggestion | None, Escalation]:
    live.refresh()
    text = ticket_text(request)
    vector = live.embedder.encode_queries([text])[0]

    def search(k: int, facet: str, value: str, system: System) -> list[ResolvedHit]:
        hits = live.searcher.search_documents(vector, k, {facet: value}, text=text, system=system)
        return resolve_hits(session, hits)

    # One ranking for the solutions, so articles and tickets compete on the same scale.
    solution_hits = search(solutions, "solution", "yes", live.default_system)
    snippet_of = snippet_maker(live, text)
    ranked = [_solution(item, snippet_of) for item in solution_hits]

    # The team vote weighs neighbours by cosine similarity, so it asks the dense index.
    ticket_hits = search(neighbours, "kind", "ticket", "dense")
    article_hits = search(solutions, "kind", "article", "dense")
    votes = team_vote(ticket_hits, article_hits)
    charters = _charters(session)
    if not votes:
        return (
            ranked,
            None,
            Escalation(
                action="dispatcher",
                team=None,
                reason="No resolved tickets or team charters are similar enough to vote.",
                contractor=None,
                guideline=None,
            ),
        )
    ordered = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    best_team, confidence = ordered[0]
    charter = charters.get(best_team)
    team = TeamSuggestion(
        name=best_team,
        confidence=round(confidence, 4),
        display_name=str(charter.front_matter.get("name") or charter.title) if charter else None,
        alternatives=[TeamScore(name=n, confidence=round(c, 4)) for n, c in ordered[1:3]],
    )
    guideline = (
        GuidelineRef(
            slug=charter.slug,
            title=charter.title,
            link=article_link(charter.slug),
            criteria=escalation_criteria(charter),
        )
        if charter
        else None
    )
    contractor = charter.front_matter.get("contractor") if charter else None
    if confidence < min_confidence:
        escalation = Escalation(
            action="dispatcher",
            team=None,
            reason=(
                f"Team vote too uncertain ({confidence:.0%} for {best_team}, threshold "
                f"{min_confidence:.0%}): the dispatcher decides."
            ),
            contractor=None,
            guideline=None,
        )
    else:
        escalation = Escalation(
            action="escalate",
            team=best_team,
            reason=(
                f"{confidence:.0%} of the similarity-weighted vote of similar resolved tickets "
                f"and articles points to {best_team}."
            ),
            contractor=str(contractor) if contractor else None,
            guideline=guideline,
        )
    return ranked, team, escalation
