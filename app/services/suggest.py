"""Suggest solutions and a team for a new ticket, with the escalation rule that applies."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.schemas.suggest import (
    CharterLineOut,
    Escalation,
    FirstLevelSolution,
    GuidelineRef,
    RoutingEvidence,
    SimilarTicketOut,
    Solution,
    SuggestRequest,
    TeamScore,
    TeamSuggestion,
)
from app.services.refs import article_link, ticket_id, ticket_link
from app.services.search import ResolvedHit, SnippetMaker, resolve_hits, snippet_maker
from app.services.teams import team_of
from app.services.visibility import Visibility
from db.models import Article, Ticket
from index.query_vector import QueryVectors
from index.searcher import FilterValue
from ingest.index_sync import LiveIndex
from routing.decision import DISPATCHER, RoutingDecision
from routing.features import TicketText, embed_new_ticket
from routing.service import Router


@dataclass(frozen=True)
class Suggestion:
    """Everything /suggest answers for one ticket."""

    solutions: list[Solution]
    team: TeamSuggestion | None
    escalation: Escalation
    evidence: RoutingEvidence


def _charters(session: Session, visibility: Visibility | None = None) -> dict[str, Article]:
    """Published charters the caller may see (a contractor only public or partner ones)."""
    rows = session.scalars(
        select(Article).where(Article.kind == "team", Article.status == "published")
    )
    return {a.team: a for a in rows if a.team and (visibility is None or visibility.can_search(a))}


def _solution(item: ResolvedHit, snippet_of: SnippetMaker) -> Solution:
    hit = item.to_search_hit(snippet_of)
    resolution = item.ticket.resolution if item.ticket is not None else None
    return Solution(**hit.model_dump(), resolution=resolution or None)


def first_level_solution(
    session: Session,
    live: LiveIndex,
    vectors: QueryVectors,
    text: str,
    min_similarity: float,
    visibility: Visibility | None = None,
) -> FirstLevelSolution | None:
    """The best-ranked how-to, if it is close enough to count as the proven fix.

    The how-to is the one the default ranking puts first (so an error code or product name
    counts); whether it is close enough is its cosine similarity, which keeps one meaning
    across queries, unlike a fused score. How-tos are `kind: article`; one whose front matter
    says `first_level: false` needs second-level rights and never resolves at first level.
    """
    facet: dict[str, FilterValue] = {
        "article_kind": "article",
        **(visibility.filters if visibility else {}),
    }
    ranked = live.searcher.search_documents(
        vectors.ranking, 1, facet, text=text, system=live.default_system
    )
    if not ranked:
        return None
    cosine = {
        hit.doc_key: hit.score
        for hit in live.searcher.search_documents(vectors.question, 10, facet, system="dense")
    }
    similarity = cosine.get(ranked[0].doc_key, 0.0)
    if similarity < min_similarity:
        return None
    article = resolve_hits(session, ranked)[0].article
    if article is None or article.front_matter.get("first_level") is False:
        return None
    return FirstLevelSolution(
        slug=article.slug,
        title=article.title,
        link=article_link(article.slug),
        team=article.team,
        similarity=round(similarity, 4),
    )


def routing_evidence(session: Session, decision: RoutingDecision) -> RoutingEvidence:
    """The nearest resolved tickets and matching charter lines, with links."""
    ids = [t.ticket_id for t in decision.similar_tickets if t.ticket_id is not None]
    rows = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    tickets = []
    for similar in decision.similar_tickets:
        row = rows.get(similar.ticket_id) if similar.ticket_id is not None else None
        if row is None:  # deleted since the router was trained
            continue
        tickets.append(
            SimilarTicketOut(
                id=ticket_id(row.source, row.external_id),
                title=row.title,
                team=similar.team,
                score=similar.score,
                link=ticket_link(row.source, row.external_id),
            )
        )
    lines = [
        CharterLineOut(
            team=line.team,
            section=line.section,
            text=line.text,
            score=round(line.score, 4),
            link=article_link(line.slug),
        )
        for line in decision.charter_lines
    ]
    return RoutingEvidence(similar_tickets=tickets, charter_lines=lines)


def only_visible_teams(decision: RoutingDecision, visible: set[str]) -> RoutingDecision:
    """The decision as a caller who sees only some team charters may read it.

    A contractor learns no team the catalogue does not show them: other teams drop out of
    the candidates, and when the router's choice is one of them the dispatcher decides.
    """
    teams = [t for t in decision.teams if t.team in visible]
    if decision.team is None or decision.team in visible:
        return replace(decision, teams=teams)
    return replace(
        decision,
        team=None,
        teams=teams,
        abstained=True,
        reason=f"{DISPATCHER}: the ticket belongs to a team outside your catalogue.",
    )


def team_suggestion(
    decision: RoutingDecision, charters: dict[str, Article]
) -> TeamSuggestion | None:
    if not decision.teams:
        return None
    best, *others = decision.teams
    charter = charters.get(best.team)
    return TeamSuggestion(
        name=best.team,
        confidence=best.confidence,
        display_name=team_of(charter).name if charter else None,
        alternatives=[TeamScore(name=t.team, confidence=t.confidence) for t in others],
        stage=decision.stage,
        abstained=decision.abstained,
        reason=decision.reason,
    )


def escalation_for(
    decision: RoutingDecision,
    charters: dict[str, Article],
    first_level: FirstLevelSolution | None,
) -> Escalation:
    """resolve_at_first_level, escalate (with the charter's criteria) or dispatcher."""
    if first_level is not None:
        return Escalation(
            action="resolve_at_first_level",
            team=None,
            reason=(
                f'The how-to "{first_level.title}" matches this ticket closely (similarity '
                f"{first_level.similarity:.2f}): first level applies it before escalating."
            ),
            contractor=None,
            guideline=None,
            solution=first_level,
        )
    if decision.team is None:
        return Escalation(
            action="dispatcher", team=None, reason=decision.reason, contractor=None, guideline=None
        )
    charter = charters.get(decision.team)
    team = team_of(charter) if charter else None
    return Escalation(
        action="escalate",
        team=decision.team,
        reason=f"Escalate to {decision.team}: {decision.reason}",
        contractor=team.contractor if team else None,
        guideline=GuidelineRef(
            slug=team.slug, title=charter.title, link=team.link, criteria=team.escalation_criteria
        )
        if team and charter
        else None,
    )


def suggest(
    session: Session,
    live: LiveIndex,
    router: Router,
    request: SuggestRequest,
    *,
    solutions: int,
    max_words: int,
    first_level_min_similarity: float,
    visibility: Visibility | None = None,
) -> Suggestion:
    """Solutions, the team and the escalation decision for one new ticket.

    `visibility` filters every retrieval inside the index (solutions, the first-level
    how-to) and the charters and evidence shown; None means staff (everything published).
    """
    seen: dict[str, FilterValue] = dict(visibility.filters) if visibility else {}
    live.refresh()
    ticket = TicketText(request.title, request.description)
    text = ticket.lexical
    # One encoder pass: the ticket as a question, and as a document (routed like resolved
    # tickets); searches rank by the blend of both roles (index.query_vector).
    question_vector, document_vector = embed_new_ticket(live.embedder, ticket, max_words=max_words)
    vectors = QueryVectors.of(question_vector, document_vector)

    # One ranking for the solutions, so articles and tickets compete on the same scale.
    hits = live.searcher.search_documents(
        vectors.ranking,
        solutions,
        {"solution": "yes", **seen},
        text=text,
        system=live.default_system,
    )
    snippet_of = snippet_maker(live, text)
    ranked = [_solution(item, snippet_of) for item in resolve_hits(session, hits, visibility)]

    decision = router.route(ticket, document_vector)
    first_level = first_level_solution(
        session, live, vectors, text, first_level_min_similarity, visibility
    )
    if (
        first_level is not None
        and decision.team is not None
        and first_level.team not in (None, decision.team)
    ):
        # The router is sure the ticket belongs to another team's field than the how-to:
        # a close wording is then a coincidence, not the proven fix.
        first_level = None
    charters = _charters(session, visibility)
    evidence = routing_evidence(session, decision)
    if visibility is not None and not visibility.sees_tickets:
        # Resolved tickets are internal; charter lines only from charters the caller sees.
        evidence = RoutingEvidence(
            similar_tickets=[],
            charter_lines=[line for line in evidence.charter_lines if line.team in charters],
        )
        decision = only_visible_teams(decision, set(charters))
    return Suggestion(
        solutions=ranked,
        team=team_suggestion(decision, charters),
        escalation=escalation_for(decision, charters, first_level),
        evidence=evidence,
    )
