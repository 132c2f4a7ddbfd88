"""The rollups behind training's first-level list: which tickets reached second level
(`EscalatedTicket`), which how-tos first level had as a fix for a ticket and since when
(`FixPair`: first offered by a first-level suggestion, or linked), and per day and how-to
the escalated tickets whose case dates from that day (`FixDay`).

A case counts on the day of its earlier evidence (`since`) while its ticket is escalated:
a new case of an escalated ticket, a ticket newly escalated with cases, or evidence older
than a case's date (which moves it) changes its days (one UPSERT each, in the writer's
transaction). The retention prune recomputes the tickets whose events it deletes from the
events and links that stay; `rebuild_fixes` recomputes everything."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    null,
    select,
    true,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from db.models import (
    EscalatedTicket,
    EscalationOutcome,
    FixDay,
    FixPair,
    SolutionLink,
    SuggestionEvent,
    SuggestionShown,
    UtcDateTime,
)
from db.rollup_sql import add, as_day, day_of, dialect_module

FIRST_LEVEL = "resolve_at_first_level"
ARTICLE_PREFIX = "article:"


def since(first_at: datetime | None, linked_at: datetime | None) -> datetime | None:
    """When a case dates from: the earlier of its first offer and its link."""
    known = [at for at in (first_at, linked_at) if at is not None]
    return min(known) if known else None


def since_column() -> ColumnElement[Any]:
    """`since` of a `FixPair` row, in SQL."""
    first, linked = FixPair.first_at, FixPair.linked_at
    return case(
        (first.is_(None), linked),
        (linked.is_(None), first),
        (linked < first, linked),
        else_=first,
    )


def _add_days(session: Session, changes: Counter[tuple[date, str]]) -> None:
    """Add each (day, slug)'s change to its row; drop the rows left at zero."""
    changed = [(key, n) for key, n in sorted(changes.items()) if n]
    rows = [{"day": d, "slug": s, "tickets": n} for (d, s), n in changed]
    add(session, FixDay.__table__, ("day", "slug"), rows)
    if any(n < 0 for _, n in changed):
        session.execute(delete(FixDay).where(FixDay.tickets <= 0))


def _counts(pairs: list[tuple[Any, str]], sign: int) -> Counter[tuple[date, str]]:
    counts: Counter[tuple[date, str]] = Counter()
    for at, slug in pairs:
        counts[(as_day(at), slug)] += sign
    return counts


def _is_escalated(session: Session, source: str, ticket: str) -> bool:
    return session.get(EscalatedTicket, (source, ticket)) is not None


def escalated(session: Session, ticket_source: str | None, ticket_id: str | None) -> None:
    """A ticket reached second level (an outcome, an escalating suggestion): the first time,
    its cases start to count."""
    if ticket_source is None or ticket_id is None:
        return
    new = session.scalars(
        dialect_module(session)
        .insert(EscalatedTicket)
        .values(ticket_source=ticket_source, ticket_id=ticket_id)
        .on_conflict_do_nothing()
        .returning(EscalatedTicket.ticket_id)
    ).all()
    if new:
        pairs = session.execute(
            select(since_column(), FixPair.slug).where(
                FixPair.ticket_source == ticket_source, FixPair.ticket_id == ticket_id
            )
        )
        _add_days(session, _counts([(at, slug) for at, slug in pairs], 1))


def _evidence(
    session: Session,
    source: str,
    ticket: str,
    slug: str,
    *,
    first_at: datetime | None = None,
    linked_at: datetime | None = None,
) -> None:
    """A first offer or a link of (ticket, how-to): a new case, or an earlier date for one."""
    key = and_(FixPair.ticket_source == source, FixPair.ticket_id == ticket, FixPair.slug == slug)
    values = {"first_at": first_at, "linked_at": linked_at}
    new = session.scalars(
        dialect_module(session)
        .insert(FixPair)
        .values(ticket_source=source, ticket_id=ticket, slug=slug, **values)
        .on_conflict_do_nothing()
        .returning(FixPair.slug)
    ).all()
    if new:
        if _is_escalated(session, source, ticket):
            _add_days(session, _counts([(since(first_at, linked_at), slug)], 1))
        return
    old = session.execute(
        select(FixPair.first_at, FixPair.linked_at).where(key).with_for_update()
    ).one()
    kept = {"first_at": since(old.first_at, first_at), "linked_at": since(old.linked_at, linked_at)}
    if kept == {"first_at": old.first_at, "linked_at": old.linked_at}:
        return
    session.execute(update(FixPair).where(key).values(**kept))
    before, after = since(old.first_at, old.linked_at), since(**kept)
    if _is_escalated(session, source, ticket):
        changes = _counts([(before, slug)], -1)
        changes.update(_counts([(after, slug)], 1))  # update keeps what falls to zero
        _add_days(session, changes)


def offered(session: Session, event: SuggestionEvent, targets: list[str]) -> None:
    """A new suggestion (`targets` in rank order): its escalation, or the first-level fix
    it offered first among the articles."""
    if event.ticket_source is None or event.ticket_id is None:
        return
    if event.action == "escalate":
        escalated(session, event.ticket_source, event.ticket_id)
        return
    articles = [t for t in targets if t.startswith(ARTICLE_PREFIX)]
    if event.action != FIRST_LEVEL or not articles:
        return
    slug = articles[0][len(ARTICLE_PREFIX) :]
    _evidence(session, event.ticket_source, event.ticket_id, slug, first_at=event.at)


def linked(session: Session, link: SolutionLink) -> None:
    """A new solution link: the how-to was a fix for its ticket."""
    _evidence(
        session, link.ticket_source, link.ticket_id, link.article_slug, linked_at=link.created_at
    )


def _first_offers(scope: ColumnElement[bool]) -> Any:
    """(source, ticket, slug, first time) of the first-level suggestions `scope` selects."""
    event, shown = SuggestionEvent, SuggestionShown
    ranks = SuggestionShown.__table__.alias("ranks")
    # Each event's first article by rank, as one grouped pass (no subquery per event).
    first_article = (
        select(ranks.c.event_id, func.min(ranks.c.rank).label("rank"))
        .where(
            ranks.c.target.like(f"{ARTICLE_PREFIX}%"),
            ranks.c.event_id.in_(select(event.id).where(event.action == FIRST_LEVEL, scope)),
        )
        .group_by(ranks.c.event_id)
        .subquery()
    )
    slug = func.substr(shown.target, len(ARTICLE_PREFIX) + 1)
    return (
        select(event.ticket_source, event.ticket_id, slug, func.min(event.at))
        .join(first_article, first_article.c.event_id == event.id)
        .join(shown, and_(shown.event_id == event.id, shown.rank == first_article.c.rank))
        .where(
            event.action == FIRST_LEVEL,
            event.ticket_source.is_not(None),
            event.ticket_id.is_not(None),
            scope,
        )
        .group_by(event.ticket_source, event.ticket_id, slug)
    )


def _cases(scope: ColumnElement[bool], links: ColumnElement[bool]) -> Any:
    """(source, ticket, slug, first offer, link) of the offers `scope` and the links `links`
    select: one row per pair."""
    offers = _first_offers(scope).subquery()
    none = cast(null(), UtcDateTime())
    link = SolutionLink
    evidence = union_all(
        select(*offers.c, none),
        select(link.ticket_source, link.ticket_id, link.article_slug, none, link.created_at).where(
            links
        ),
    ).subquery()
    source, ticket, slug, first_at, linked_at = evidence.c
    return select(source, ticket, slug, func.min(first_at), func.min(linked_at)).group_by(
        source, ticket, slug
    )


def _escalating(scope: ColumnElement[bool], outcomes: ColumnElement[bool]) -> Any:
    event = SuggestionEvent
    return union(
        select(EscalationOutcome.ticket_source, EscalationOutcome.ticket_id).where(outcomes),
        select(event.ticket_source, event.ticket_id).where(
            event.action == "escalate",
            event.ticket_source.is_not(None),
            event.ticket_id.is_not(None),
            scope,
        ),
    )


def _fill(
    session: Session,
    scope: ColumnElement[bool],
    outcomes: ColumnElement[bool],
    links: ColumnElement[bool],
) -> None:
    """Insert the cases and escalated tickets of the events `scope`, the outcomes
    `outcomes` and the links `links` select."""
    pair_columns = ["ticket_source", "ticket_id", "slug", "first_at", "linked_at"]
    session.execute(insert(FixPair).from_select(pair_columns, _cases(scope, links)))
    session.execute(
        dialect_module(session)
        .insert(EscalatedTicket)
        .from_select(["ticket_source", "ticket_id"], _escalating(scope, outcomes))
        .on_conflict_do_nothing()
    )


def _counted_pairs(session: Session, tickets: ColumnElement[bool]) -> list[tuple[Any, str]]:
    """(since, slug) of the cases of escalated tickets among `tickets`."""
    escalated_pair = exists().where(
        EscalatedTicket.ticket_source == FixPair.ticket_source,
        EscalatedTicket.ticket_id == FixPair.ticket_id,
    )
    query = select(since_column(), FixPair.slug).where(tickets, escalated_pair)
    return [(at, slug) for at, slug in session.execute(query)]


def forget_fixes_before(session: Session, cutoff: datetime) -> None:
    """Before the events older than `cutoff` are deleted: recompute the tickets they
    belong to from the events and links that stay."""
    event = SuggestionEvent
    affected = (
        select(event.ticket_source, event.ticket_id)
        .where(event.at < cutoff, event.ticket_id.is_not(None))
        .distinct()
    )
    pair_of = tuple_(FixPair.ticket_source, FixPair.ticket_id).in_(affected)
    gone = _counts(_counted_pairs(session, pair_of), -1)
    session.execute(delete(FixPair).where(pair_of))
    ticket_of = tuple_(EscalatedTicket.ticket_source, EscalatedTicket.ticket_id).in_(affected)
    session.execute(delete(EscalatedTicket).where(ticket_of))
    stays = and_(event.at >= cutoff, tuple_(event.ticket_source, event.ticket_id).in_(affected))
    outcome_of = tuple_(EscalationOutcome.ticket_source, EscalationOutcome.ticket_id).in_(affected)
    link_of = tuple_(SolutionLink.ticket_source, SolutionLink.ticket_id).in_(affected)
    _fill(session, stays, outcome_of, link_of)
    gone.update(_counts(_counted_pairs(session, pair_of), 1))
    _add_days(session, gone)


def rebuild_fixes(session: Session) -> None:
    """Recompute the escalated tickets, the cases and their days from events, outcomes
    and links."""
    for table in (FixDay, FixPair, EscalatedTicket):
        session.execute(delete(table))
    _fill(session, true(), true(), true())
    day = day_of(session, since_column())
    counted = (
        select(day, FixPair.slug, func.count())
        .join(
            EscalatedTicket,
            and_(
                EscalatedTicket.ticket_source == FixPair.ticket_source,
                EscalatedTicket.ticket_id == FixPair.ticket_id,
            ),
        )
        .group_by(day, FixPair.slug)
    )
    session.execute(insert(FixDay).from_select(["day", "slug", "tickets"], counted))
