"""What the gap miner reads: candidate tickets and searches, and the articles they need.

Each read is restricted by the caller's `Visibility`, so a gap can only be built from what
the caller may see: staff read every resolved ticket and search, a contractor only the
searches its own firm made (no tickets), and every caller only the published articles in
its audience (a hidden article must not make a ticket look covered either: that would
tell the caller the article exists).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from app.services.kpis_sql import Window
from app.services.visibility import Visibility
from db.models import (
    Article,
    EscalationOutcome,
    Passage,
    SearchEvent,
    SuggestionEvent,
    Ticket,
)
from index.embedder import Vectors

# Searches are encoded when the gaps are mined (they keep no vector): the most recent ones
# only, so one mining run costs a bounded amount of encoder time.
SEARCHES_MAX = 300

Encode = Callable[[Sequence[str]], Vectors]


@dataclass(frozen=True)
class Candidates:
    """Tickets and searches in the range, one row each (vectors L2-normalised)."""

    refs: list[str]
    kinds: list[str]
    titles: list[str]
    resolutions: list[str]
    teams: list[str | None]
    languages: list[str | None]
    times: list[datetime | None]
    escalated: list[bool]
    vectors: Vectors

    def __len__(self) -> int:
        return len(self.refs)


@dataclass(frozen=True)
class ArticlePassages:
    """Published passages the caller may search, with the article each belongs to."""

    vectors: Vectors
    article: np.ndarray  # article position (0..articles-1) of each passage
    slugs: list[str]


def _normalised(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def article_passages(session: Session, visibility: Visibility, model_id: str) -> ArticlePassages:
    """Every passage of a published solution article the caller may search (charters,
    which describe a team rather than solve a problem, are left out)."""
    articles = [
        article
        for article in session.scalars(
            select(Article).where(Article.status == "published", Article.kind != "team")
        )
        if visibility.can_search(article)
    ]
    position = {article.id: index for index, article in enumerate(articles)}
    rows: list[tuple[int, bytes]] = []
    if position:
        query = (
            select(Passage.article_id, Passage.embedding)
            .where(Passage.article_id.in_(position), Passage.model_id == model_id)
            .order_by(Passage.article_id, Passage.position)
        )
        rows = [(int(article_id or 0), blob) for article_id, blob in session.execute(query)]
    present = sorted({position[article_id] for article_id, _ in rows})
    renumber = {old: new for new, old in enumerate(present)}
    vectors = (
        np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32).reshape(len(rows), -1)
        if rows
        else np.zeros((0, 0), dtype=np.float32)
    )
    return ArticlePassages(
        vectors,
        np.asarray([renumber[position[a]] for a, _ in rows], dtype=np.int64),
        [articles[i].slug for i in present],
    )


def _ticket_time() -> ColumnElement[datetime]:
    return func.coalesce(Ticket.resolved_at, Ticket.ingested_at)


def _ticket_scope(window: Window) -> ColumnElement[bool]:
    """The tickets of the range (and team): one condition for every read that joins them."""
    team_filter = Ticket.team == window.team if window.team else true()
    return window.within(_ticket_time()) & team_filter


def _escalated(session: Session, window: Window) -> set[tuple[str, str]]:
    """The range's tickets that went to second level: an escalation outcome was reported
    for them, or a suggestion for them said `escalate`. Joined on the ticket's key, so one
    query each, whatever the number of tickets."""
    scope = _ticket_scope(window)
    outcomes = select(EscalationOutcome.ticket_source, EscalationOutcome.ticket_id).join(
        Ticket,
        (Ticket.source == EscalationOutcome.ticket_source)
        & (Ticket.external_id == EscalationOutcome.ticket_id),
    )
    suggestions = select(SuggestionEvent.ticket_source, SuggestionEvent.ticket_id).join(
        Ticket,
        (Ticket.source == SuggestionEvent.ticket_source)
        & (Ticket.external_id == SuggestionEvent.ticket_id),
    )
    found = {(str(s), str(i)) for s, i in session.execute(outcomes.where(scope))}
    found.update(
        (str(s), str(i))
        for s, i in session.execute(suggestions.where(scope, SuggestionEvent.action == "escalate"))
    )
    return found


def _ticket_vectors(
    session: Session, window: Window, model_id: str
) -> tuple[npt.NDArray[np.int64], Vectors]:
    """Ticket ids (ascending) and the sum of each one's passage vectors for `model_id`."""
    rows = session.execute(
        select(Passage.ticket_id, Passage.embedding)
        .join(Ticket, Ticket.id == Passage.ticket_id)
        .where(_ticket_scope(window), Passage.model_id == model_id)
        .order_by(Passage.ticket_id, Passage.position)
    ).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    owner = np.fromiter((int(ticket_id or 0) for ticket_id, _ in rows), np.int64, len(rows))
    flat = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32)
    flat = flat.reshape(len(rows), -1)
    first = np.r_[True, owner[1:] != owner[:-1]]
    group = np.cumsum(first) - 1
    sums = flat[first].copy()
    # Most tickets are one passage; add the others' further passages row by row
    # (reduceat over rows costs a pass per group).
    rest = np.flatnonzero(~first)
    if rest.size:
        np.add.at(sums, group[rest], flat[rest])
    return owner[first], sums


def candidates(
    session: Session,
    visibility: Visibility,
    window: Window,
    *,
    model_id: str,
    encode: Encode,
) -> Candidates:
    """Resolved tickets (staff only) and searches of the range, for `window.team` or all."""
    refs: list[str] = []
    kinds: list[str] = []
    titles: list[str] = []
    resolutions: list[str] = []
    teams: list[str | None] = []
    languages: list[str | None] = []
    times: list[datetime | None] = []
    blocks: list[Vectors] = []
    keys: list[tuple[str, str]] = []
    if visibility.sees_tickets:
        tickets = session.execute(
            select(
                Ticket.id,
                Ticket.source,
                Ticket.external_id,
                Ticket.title,
                Ticket.resolution,
                Ticket.team,
                Ticket.language,
                _ticket_time(),
            )
            .where(_ticket_scope(window))
            .order_by(Ticket.id)
        ).all()
        embedded, sums = _ticket_vectors(session, window, model_id)
        row_of = {int(ticket_id): row for row, ticket_id in enumerate(embedded)}
        chosen: list[int] = []
        for row_id, source, external, title, resolution, team, language, at in tickets:
            if row_id not in row_of:
                continue  # not embedded with this model: a reindex is due, skip it
            chosen.append(row_of[row_id])
            refs.append(f"ticket:{source}:{external}")
            kinds.append("ticket")
            titles.append(title)
            resolutions.append(resolution or "")
            teams.append(team)
            languages.append(language)
            times.append(at)
            keys.append((source, external))
        if chosen:
            blocks.append(sums[np.asarray(chosen, dtype=np.int64)])
    searches = _searches(session, visibility, window)
    if searches:
        blocks.append(encode([query for _, query, _ in searches]))
        for event_id, query, at in searches:
            refs.append(f"search:{event_id}")
            kinds.append("search")
            titles.append(query)
            resolutions.append("")
            teams.append(None)
            languages.append(None)
            times.append(at)
    escalated = _escalated(session, window) if keys else set()
    flags = [key in escalated for key in keys] + [False] * len(searches)
    vectors = (
        _normalised(np.concatenate(blocks).astype(np.float32))
        if blocks
        else np.zeros((0, 0), dtype=np.float32)
    )
    return Candidates(refs, kinds, titles, resolutions, teams, languages, times, flags, vectors)


def _searches(
    session: Session, visibility: Visibility, window: Window
) -> list[tuple[int, str, datetime]]:
    """The range's most recent searches the caller may see (with a team filter, none:
    a search names no team)."""
    if window.team:
        return []
    if visibility.sees_tickets:
        firm: ColumnElement[bool] = true()
    else:
        company = visibility.principal.company
        firm = SearchEvent.company == company if company else false()
    rows = session.execute(
        select(SearchEvent.id, SearchEvent.query, SearchEvent.at)
        .where(window.within(SearchEvent.at), firm, or_(SearchEvent.query != ""))
        .order_by(SearchEvent.at.desc(), SearchEvent.id.desc())
        .limit(SEARCHES_MAX)
    ).all()
    return [(int(i), str(q), at) for i, q, at in reversed(rows)]
