"""SQL pieces the KPI families share: the time window, period buckets, durations, shares.

SQLite and PostgreSQL spell date arithmetic differently; each helper returns the one
expression for the session's dialect, so every KPI stays one GROUP BY on the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Float, String, cast, func, literal
from sqlalchemy.orm import Session

from app.schemas.kpis import Interval, ShareKpis


@dataclass(frozen=True)
class Window:
    """Days `start` to `end` (inclusive, UTC), bucketed by `interval`, for `team` or all."""

    start: date
    end: date
    interval: Interval
    team: str | None
    dialect: str
    now: datetime

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def within(self, column: Any) -> ColumnElement[bool]:
        result: ColumnElement[bool] = (column >= self.since) & (column < self.until)
        return result

    def bucket(self, day: date) -> str:
        """The period of a day, as `period` spells it for a timestamp of that day."""
        if self.interval == "week":
            return (day - timedelta(days=day.weekday())).isoformat()
        return day.replace(day=1).isoformat()

    def period(self, column: Any) -> ColumnElement[str]:
        """The first day of the week (Monday) or month of a timestamp, as an ISO date."""
        if self.dialect == "postgresql":
            utc = func.timezone("UTC", column)
            return func.to_char(func.date_trunc(self.interval, utc), "YYYY-MM-DD")
        if self.interval == "week":
            return cast(func.date(column, "weekday 0", "-6 days"), String)
        return cast(func.strftime("%Y-%m-01", column), String)

    def hours_between(self, earlier: Any, later: Any) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return cast(func.extract("epoch", later - earlier), Float) / 3600.0
        return (func.julianday(later) - func.julianday(earlier)) * 24.0

    def days_since(self, column: Any) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            now = cast(literal(self.now), DateTime(timezone=True))
            return cast(func.extract("epoch", now - column), Float) / 86400.0
        return func.julianday(self.now.strftime("%Y-%m-%d %H:%M:%S")) - func.julianday(column)


def window(
    session: Session,
    *,
    start: date,
    end: date,
    interval: Interval,
    team: str | None,
    now: datetime,
) -> Window:
    return Window(start, end, interval, team, session.get_bind().dialect.name, now)


def share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def share_row(period: object, team: str | None, total: object, count: object) -> ShareKpis:
    """One row of a share KPI from a GROUP BY's (period, team, count(*), sum(case)) row."""
    n, k = int(total), int(count or 0)  # type: ignore[call-overload]
    return ShareKpis(
        period=None if period is None else str(period),
        team=team,
        total=n,
        count=k,
        share=share(k, n),
    )


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)
