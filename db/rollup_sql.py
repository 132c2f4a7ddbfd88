"""SQL pieces the rollup upkeep shares: a timestamp's UTC day on either database, and
the UPSERT that adds counts to a keyed row (SQLite and PostgreSQL spell both alike)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import as_utc


def dialect_module(session: Session) -> Any:
    """The dialect module whose `insert` has `on_conflict_do_*` for this session."""
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """A timestamp column's UTC day, as the database spells it."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def as_day(value: date | datetime | str) -> date:
    """A day read back from either database (SQLite answers `date()` as text)."""
    if isinstance(value, datetime):
        return as_utc(value).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def add(session: Session, table: Any, keys: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Add each row's counts to its key's row (an UPSERT; a missing row starts at them).
    Each key must occur once in `rows`."""
    if not rows:
        return
    statement = dialect_module(session).insert(table).values(rows)
    counts = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in counts},
    )
    session.execute(statement)
