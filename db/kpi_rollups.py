"""Keeping the KPI rollups (`db.models.rollups`) equal to what the events say.

Every change goes through here, in the writer's own transaction: a new suggestion or search
adds one to its day's row (one UPSERT); a solution link or a helpful mark confirms the
first-level suggestions it confirms (an indexed SELECT of that ticket's or that caller's
suggestions, one INSERT and one UPSERT per day touched); the retention prune takes the
events it deletes off their days before deleting them. `rebuild` recomputes all of it from
the events, and must agree with the upkeep (tests/app/test_kpi_rollups.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import (
    Feedback,
    SearchDay,
    SearchEvent,
    SolutionLink,
    SuggestionConfirmed,
    SuggestionDay,
    SuggestionEvent,
    SuggestionShown,
    as_utc,
)

FIRST_LEVEL = "resolve_at_first_level"
# day, team, company, action, escalation team
DayKey = tuple[date, str, str, str, str]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """A timestamp column's UTC day, as the database spells it."""
    if _dialect(session) == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def as_day(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return as_utc(value).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _add(session: Session, table: Any, keys: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Add each row's counts to its key's row (an UPSERT; a missing row starts at them)."""
    if not rows:
        return
    module: Any = postgresql if _dialect(session) == "postgresql" else sqlite
    statement = module.insert(table).values(rows)
    counts = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in counts},
    )
    session.execute(statement)


_DAY_KEYS = ("day", "team", "company", "action", "escalation_team")


def _event_key(at: Any, team: Any, company: Any, action: Any, escalation: Any) -> DayKey:
    return (as_day(at), team or "", company or "", str(action), escalation or "")


def _add_days(session: Session, counts: dict[DayKey, tuple[int, int]]) -> None:
    rows = [
        dict(zip(_DAY_KEYS, key, strict=True), events=events, confirmed=confirmed)
        for key, (events, confirmed) in sorted(counts.items())
    ]
    _add(session, SuggestionDay.__table__, _DAY_KEYS, rows)


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


def search_added(session: Session, event: SearchEvent) -> None:
    row = {
        "day": as_day(event.at),
        "company": event.company or "",
        "searches": 1,
        "empty": int(event.results == 0),
    }
    _add(session, SearchDay.__table__, ("day", "company"), [row])


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
    module: Any = postgresql if _dialect(session) == "postgresql" else sqlite
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
    _add(session, SearchDay.__table__, ("day", "company"), searches)
    session.execute(delete(SearchDay).where(SearchDay.searches <= 0))


def confirmed_by_the_events() -> ColumnElement[bool]:
    """The definition the upkeep maintains, as one condition on a suggestion event."""
    event = SuggestionEvent
    linked = exists().where(
        SolutionLink.ticket_source == event.ticket_source,
        SolutionLink.ticket_id == event.ticket_id,
    )
    helpful = exists().where(
        SuggestionShown.event_id == event.id,
        Feedback.target == SuggestionShown.target,
        Feedback.helpful.is_(True),
        Feedback.actor == event.actor,
        Feedback.created_at >= event.at,
    )
    return and_(event.action == FIRST_LEVEL, or_(linked, helpful))


def rebuild(session: Session) -> tuple[int, int]:
    """Recompute every rollup from the events; (suggestion days, search days) written."""
    for table in (SuggestionDay, SearchDay, SuggestionConfirmed):
        session.execute(delete(table))
    session.execute(
        insert(SuggestionConfirmed).from_select(
            ["event_id"], select(SuggestionEvent.id).where(confirmed_by_the_events())
        )
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
