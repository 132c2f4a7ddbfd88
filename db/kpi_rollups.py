"""Keeping the KPI rollups (`db.models.rollups`) equal to what the events say.

Every change goes through here, in the writer's own transaction: a new suggestion or search
adds one to its day's row (one UPSERT); a solution link or a helpful mark confirms the
first-level suggestions it confirms (an indexed SELECT of that ticket's or that caller's
suggestions, one INSERT and one UPSERT per day touched); the retention prune takes the
events it deletes off their days before deleting them. `rebuild` recomputes all of it from
the events, and must agree with the upkeep (tests/app/test_kpi_rollups.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    union,
)
from sqlalchemy.orm import Session

from db.first_suggestions import (
    forget_first_suggestions_before,
    rebuild_first_suggestions,
    suggested,
)
from db.fix_rollups import forget_fixes_before, rebuild_fixes
from db.models import (
    Feedback,
    SearchDay,
    SearchEvent,
    SolutionLink,
    SuggestionConfirmed,
    SuggestionDay,
    SuggestionEvent,
    SuggestionShown,
)
from db.rollup_sql import add, as_day, day_of, dialect_module
from db.ticket_rollups import rebuild_ticket_days

FIRST_LEVEL = "resolve_at_first_level"
# day, team, company, action, escalation team
DayKey = tuple[date, str, str, str, str]


_DAY_KEYS = ("day", "team", "company", "action", "escalation_team")


def _event_key(at: Any, team: Any, company: Any, action: Any, escalation: Any) -> DayKey:
    return (as_day(at), team or "", company or "", str(action), escalation or "")


def _add_days(session: Session, counts: dict[DayKey, tuple[int, int]]) -> None:
    rows = [
        dict(zip(_DAY_KEYS, key, strict=True), events=events, confirmed=confirmed)
        for key, (events, confirmed) in sorted(counts.items())
    ]
    add(session, SuggestionDay.__table__, _DAY_KEYS, rows)


def suggestion_added(session: Session, event: SuggestionEvent) -> None:
    """A new suggestion: confirmed at once if its ticket already has a solution link (a
    helpful mark counts only from the suggestion on, so none can exist yet)."""
    confirmed = 0
    if event.action == FIRST_LEVEL and event.ticket_id is not None:
        linked = session.scalar(
            select(
                exists().where(
                    SolutionLink.ticket_source == event.ticket_source,
                    SolutionLink.ticket_id == event.ticket_id,
                )
            )
        )
        if linked:
            session.execute(insert(SuggestionConfirmed).values(event_id=event.id))
            confirmed = 1
    key = _event_key(event.at, event.team, event.company, event.action, event.escalation_team)
    _add_days(session, {key: (1, confirmed)})
    suggested(session, event)


def search_added(session: Session, event: SearchEvent) -> None:
    row = {
        "day": as_day(event.at),
        "company": event.company or "",
        "searches": 1,
        "empty": int(event.results == 0),
    }
    add(session, SearchDay.__table__, ("day", "company"), [row])


def _confirm(session: Session, which: ColumnElement[bool]) -> int:
    """Mark the unconfirmed first-level suggestions `which` selects; how many were marked."""
    event = SuggestionEvent
    already = exists().where(SuggestionConfirmed.event_id == event.id)
    found = session.execute(
        select(event.id, event.at, event.team, event.company, event.action, event.escalation_team)
        .where(event.action == FIRST_LEVEL, which, ~already)
        .order_by(event.id)
    ).all()
    if not found:
        return 0
    module = dialect_module(session)
    marked = set(
        session.scalars(
            module.insert(SuggestionConfirmed)
            .values([{"event_id": row.id} for row in found])
            .on_conflict_do_nothing()
            .returning(SuggestionConfirmed.event_id)
        )
    )
    counts = Counter(_event_key(*row[1:]) for row in found if row.id in marked)
    _add_days(session, {key: (0, n) for key, n in counts.items()})
    return len(marked)


def link_added(session: Session, link: SolutionLink) -> int:
    """A solution link confirms every first-level suggestion of its ticket, at any time."""
    return _confirm(
        session,
        and_(
            SuggestionEvent.ticket_source == link.ticket_source,
            SuggestionEvent.ticket_id == link.ticket_id,
        ),
    )


def feedback_added(session: Session, mark: Feedback) -> int:
    """A helpful mark confirms its caller's first-level suggestions that showed the marked
    solution, made at or before the mark."""
    if not mark.helpful:
        return 0
    showed = exists().where(
        SuggestionShown.event_id == SuggestionEvent.id, SuggestionShown.target == mark.target
    )
    return _confirm(
        session,
        and_(
            SuggestionEvent.actor == mark.actor,
            SuggestionEvent.at <= mark.created_at,
            showed,
        ),
    )


def _suggestion_days(session: Session, scope: ColumnElement[bool]) -> Any:
    event = SuggestionEvent
    day = day_of(session, event.at)
    keys = (
        day,
        func.coalesce(event.team, ""),
        func.coalesce(event.company, ""),
        event.action,
        func.coalesce(event.escalation_team, ""),
    )
    return (
        select(*keys, func.count(), func.count(SuggestionConfirmed.event_id))
        .outerjoin(SuggestionConfirmed, SuggestionConfirmed.event_id == event.id)
        .where(scope)
        .group_by(*keys)
    )


def _search_days(session: Session, scope: ColumnElement[bool]) -> Any:
    search = SearchEvent
    day = day_of(session, search.at)
    company = func.coalesce(search.company, "")
    empty = func.sum(case((search.results == 0, 1), else_=0))
    return select(day, company, func.count(), empty).where(scope).group_by(day, company)


def forget_before(session: Session, cutoff: datetime) -> None:
    """Take the events older than `cutoff` off their days (call before deleting them)."""
    forget_fixes_before(session, cutoff)
    forget_first_suggestions_before(session, cutoff)
    old = SuggestionEvent.at < cutoff
    gone: dict[DayKey, tuple[int, int]] = {}
    for day, team, company, action, escalation, n, confirmed in session.execute(
        _suggestion_days(session, old)
    ):
        gone[(as_day(day), team, company, action, escalation)] = (-int(n), -int(confirmed))
    _add_days(session, gone)
    session.execute(delete(SuggestionDay).where(SuggestionDay.events <= 0))
    session.execute(
        delete(SuggestionConfirmed).where(
            SuggestionConfirmed.event_id.in_(select(SuggestionEvent.id).where(old))
        )
    )
    searches = [
        {"day": as_day(day), "company": company, "searches": -int(n), "empty": -int(k)}
        for day, company, n, k in session.execute(_search_days(session, SearchEvent.at < cutoff))
    ]
    add(session, SearchDay.__table__, ("day", "company"), searches)
    session.execute(delete(SearchDay).where(SearchDay.searches <= 0))


def confirmed_by_the_events() -> Any:
    """The ids of the suggestions the upkeep marks confirmed, as one set-based query (joins,
    not a subquery per event: a rebuild reads every event once)."""
    event = SuggestionEvent
    first_level = event.action == FIRST_LEVEL
    linked = (
        select(event.id)
        .join(
            SolutionLink,
            and_(
                SolutionLink.ticket_source == event.ticket_source,
                SolutionLink.ticket_id == event.ticket_id,
            ),
        )
        .where(first_level)
    )
    helpful = (
        select(event.id)
        .join(SuggestionShown, SuggestionShown.event_id == event.id)
        .join(
            Feedback,
            and_(
                Feedback.target == SuggestionShown.target,
                Feedback.actor == event.actor,
                Feedback.created_at >= event.at,
            ),
        )
        .where(first_level, Feedback.helpful.is_(True))
    )
    return union(linked, helpful)


def rebuild(session: Session) -> tuple[int, int]:
    """Recompute every rollup from the events; (suggestion days, search days) written."""
    rebuild_fixes(session)
    rebuild_first_suggestions(session)
    rebuild_ticket_days(session)
    for table in (SuggestionDay, SearchDay, SuggestionConfirmed):
        session.execute(delete(table))
    session.execute(
        insert(SuggestionConfirmed).from_select(["event_id"], confirmed_by_the_events())
    )
    everything = SuggestionEvent.id.is_not(None)
    columns = [*_DAY_KEYS, "events", "confirmed"]
    session.execute(
        insert(SuggestionDay).from_select(columns, _suggestion_days(session, everything))
    )
    searches = SearchEvent.id.is_not(None)
    session.execute(
        insert(SearchDay).from_select(
            ["day", "company", "searches", "empty"], _search_days(session, searches)
        )
    )
    counted: Iterable[int] = (
        int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in (SuggestionDay, SearchDay)
    )
    days, search_days = counted
    return days, search_days
