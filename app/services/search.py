"""Turn index hits into search results with titles, snippets and links."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.schemas.search import SearchFilters, SearchHit, SearchRequest
from app.services.highlight import Snippet, make_snippet
from app.services.refs import article_id, article_link, ticket_id, ticket_link
from app.services.visibility import Visibility, is_stale
from db.models import Article, Passage, Ticket
from index.searcher import DocumentHit, FilterValue
from ingest.live_index import LiveIndex

SnippetMaker = Callable[[str], Snippet]


def index_filters(
    filters: SearchFilters, visibility: Visibility | None = None
) -> dict[str, FilterValue]:
    """The caller's filters plus what the caller may see, applied inside the index."""
    wanted: dict[str, FilterValue] = dict(visibility.filters) if visibility else {}
    if filters.kind:
        wanted["kind"] = filters.kind
    if filters.team:
        wanted["team"] = filters.team
    if filters.language:
        wanted["language"] = filters.language
    return wanted


def snippet_maker(live: LiveIndex, query: str) -> SnippetMaker:
    """Snippets that mark the words the lexical index matched for this query."""
    terms, variants = live.matched_terms(query)
    return lambda text: make_snippet(text, terms, variants)


@dataclass(frozen=True)
class ResolvedHit:
    """A document hit with its database rows loaded."""

    hit: DocumentHit
    passage: Passage
    article: Article | None
    ticket: Ticket | None

    def to_search_hit(self, snippet_of: SnippetMaker) -> SearchHit:
        passage = self.passage
        snippet = snippet_of(passage.text)
        if self.article is not None:
            article = self.article
            return SearchHit(
                id=article_id(article.slug),
                kind="article",
                title=article.title,
                heading_path=list(passage.heading_path),
                snippet=snippet.text,
                highlights=snippet.highlights,
                score=round(self.hit.score, 4),
                link=article_link(article.slug, passage.anchor),
                team=article.team,
                language=article.language,
                stale=is_stale(article),
            )
        ticket = self.ticket
        if ticket is None:
            raise ValueError("a resolved hit has an article or a ticket")
        return SearchHit(
            id=ticket_id(ticket.source, ticket.external_id),
            kind="ticket",
            title=ticket.title,
            heading_path=list(passage.heading_path),
            snippet=snippet.text,
            highlights=snippet.highlights,
            score=round(self.hit.score, 4),
            link=ticket_link(ticket.source, ticket.external_id),
            team=ticket.team,
            language=ticket.language,
        )


def resolve_hits(
    session: Session, hits: Sequence[DocumentHit], visibility: Visibility | None = None
) -> list[ResolvedHit]:
    """Load passages, articles and tickets of the hits in three queries; drop vanished ones.

    The index already filtered by `visibility`; checking again here only guards against a
    row that changed since the index caught up (it never tops up: that is the index's job).
    """
    if not hits:
        return []
    passages = {
        p.id: p
        for p in session.scalars(
            select(Passage).where(Passage.id.in_([h.best_passage_id for h in hits]))
        )
    }
    article_ids = [p.article_id for p in passages.values() if p.article_id is not None]
    ticket_ids = [p.ticket_id for p in passages.values() if p.ticket_id is not None]
    articles: Mapping[int, Article] = (
        {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(article_ids)))}
        if article_ids
        else {}
    )
    tickets: Mapping[int, Ticket] = (
        {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
        if ticket_ids
        else {}
    )
    resolved = []
    for hit in hits:
        passage = passages.get(hit.best_passage_id)
        if passage is None:
            continue
        article = articles.get(passage.article_id) if passage.article_id else None
        ticket = tickets.get(passage.ticket_id) if passage.ticket_id else None
        if article is None and ticket is None:
            continue
        if visibility is not None and (
            (article is not None and not visibility.can_search(article))
            or (ticket is not None and not visibility.sees_tickets)
        ):
            continue
        resolved.append(ResolvedHit(hit, passage, article, ticket))
    return resolved


def search(
    session: Session,
    live: LiveIndex,
    request: SearchRequest,
    *,
    visibility: Visibility,
    max_k: int,
) -> list[SearchHit]:
    """The hits for a query, only from what the caller may see (filtered inside the index)."""
    if request.k > max_k:
        raise InvalidInput(
            f"k must be at most {max_k}.",
            details=[{"field": "k", "message": f"at most {max_k}"}],
        )
    hits = live.search(
        request.query,
        request.k,
        index_filters(request.filters, visibility),
        prefer_language=request.prefer_language,
    )
    snippet_of = snippet_maker(live, request.query)
    return [item.to_search_hit(snippet_of) for item in resolve_hits(session, hits, visibility)]
