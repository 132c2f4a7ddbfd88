"""Suggest solutions and a team for a new ticket, with the escalation rule that applies."""

from __future__ import annotations

from dataclasses import dataclass

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
from app.services.tool_links import tool_links
from app.services.visibility import Visibility
from app.settings import Settings
from db.models import Article, Ticket
from index.query_vector import QueryVectors
from index.searcher import FilterValue
from ingest.live_index import Filters, LiveIndex
from ingest.ticket_vectors import DEFAULT_READ_WORDS, leading_words
from routing.decision import RoutingDecision
from routing.escalation import EscalationDecision, HowTo, decide_escalation
from routing.features import TicketText
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


def best_how_to(
    session: Session, live: LiveIndex, vectors: QueryVectors, text: str, filters: Filters
) -> HowTo | None:
    """The how-to (`kind: article`) the default ranking puts first, with its cosine.

    The ranking decides which how-to (so an error code or product name counts); its cosine
    to the question vector, which the threshold was set on, decides whether it is close
    enough (routing.escalation).
    """
    facet: dict[str, FilterValue] = {"article_kind": "article", **filters}
    ranked = live.search_by_vectors(vectors, text, 1, facet)
    if not ranked:
        return None
    resolved = resolve_hits(session, ranked)
    article = resolved[0].article if resolved else None
    if article is None:
        return None
    similarity = live.similarities(vectors.question, 10, facet).get(ranked[0].doc_key, 0.0)
    return HowTo(
        slug=article.slug,
        title=article.title,
        team=article.team,
        similarity=similarity,
        first_level=article.front_matter.get("first_level") is not False,
    )


def routing_evidence(session: Session, decision: RoutingDecision) -> RoutingEvidence:
    """The nearest resolved tickets and matching charter lines, with links."""
    ids = [t.ticket_id for t in decision.similar_tickets if t.ticket_id is not None]
    rows = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    in_tools = tool_links(session, [(t.source, t.external_id) for t in rows.values()])
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
                tool_link=in_tools.get((row.source, row.external_id)),
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


def escalation_of(decision: EscalationDecision, charters: dict[str, Article]) -> Escalation:
    """The escalation decision as /suggest shows it: with the team's charter and contractor."""
    if decision.how_to is not None:
        how_to = decision.how_to
        solution = FirstLevelSolution(
            slug=how_to.slug,
            title=how_to.title,
            link=article_link(how_to.slug),
            team=how_to.team,
            similarity=round(how_to.similarity, 4),
        )
        return Escalation(
            action=decision.action,
            team=None,
            reason=decision.reason,
            contractor=None,
            guideline=None,
            solution=solution,
        )
    charter = charters.get(decision.team) if decision.team else None
    team = team_of(charter) if charter else None
    return Escalation(
        action=decision.action,
        team=decision.team,
        reason=decision.reason,
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
    read_words: int = DEFAULT_READ_WORDS,
) -> Suggestion:
    """Solutions, the team and the escalation decision for one new ticket.

    `visibility` filters every retrieval inside the index (solutions, the first-level
    how-to) and the charters and evidence shown; None means staff (everything published).
    """
    seen: dict[str, FilterValue] = dict(visibility.filters) if visibility else {}
    live.refresh()
    # Bounded cost: only the first `read_words` words are read, however long the paste.
    description = leading_words(request.description, read_words)
    ticket = TicketText(request.title, description)
    text = ticket.lexical
    # One encoder pass: the ticket as a question, and as a document (routed like resolved
    # tickets); searches rank by the blend of both roles (index.query_vector). And one by
    # the second model, for the search and the router at once.
    vectors = live.encode_ticket(
        request.title, description, max_words=max_words, second_document_for=router.second_wanted
    )

    # One ranking for the solutions, so articles and tickets compete on the same scale.
    hits = live.search_by_vectors(vectors.query, text, solutions, {"solution": "yes", **seen})
    snippet_of = snippet_maker(live, text)
    ranked = [_solution(item, snippet_of) for item in resolve_hits(session, hits, visibility)]

    charters = _charters(session, visibility)
    staff = visibility is None or visibility.sees_tickets
    decision = decide_escalation(
        router.route(ticket, vectors.document, vectors.second),
        best_how_to(session, live, vectors.query, text, seen),
        min_similarity=first_level_min_similarity,
        visible_teams=None if staff else set(charters),
    )
    evidence = routing_evidence(session, decision.routing)
    if not staff:
        # Resolved tickets are internal; charter lines only from charters the caller sees.
        evidence = RoutingEvidence(
            similar_tickets=[],
            charter_lines=[line for line in evidence.charter_lines if line.team in charters],
        )
    return Suggestion(
        solutions=ranked,
        team=team_suggestion(decision.routing, charters),
        escalation=escalation_of(decision, charters),
        evidence=evidence,
    )


def suggest_as_configured(
    session: Session,
    live: LiveIndex,
    router: Router,
    request: SuggestRequest,
    settings: Settings,
    visibility: Visibility | None = None,
) -> Suggestion:
    """`suggest` with the service's settings, so the API, the console page and the
    connectors' webhooks answer a ticket alike."""
    return suggest(
        session,
        live,
        router,
        request,
        solutions=settings.suggest_solutions,
        max_words=settings.chunk_max_words,
        read_words=settings.suggest_read_words,
        first_level_min_similarity=settings.first_level_min_similarity,
        visibility=visibility,
    )
