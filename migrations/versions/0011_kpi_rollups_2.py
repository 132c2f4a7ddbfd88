"""First suggestion per ticket; first-level fix cases from links too; tickets per day

`first_suggestions` holds each ticket's first suggestion (anyone's, and each firm's own):
routing accuracy probes it per outcome instead of grouping the ticket's events. `fix_pairs`
gains `linked_at` (a solution link is a case too, `first_at` may be absent) and `fix_days`
counts each case on the day of its earlier evidence: training's first-level list reads
one rollup. `ticket_days` counts resolved and linked tickets per day and team: the link
rate reads it instead of every ticket of its range. Every rollup is then rebuilt from the
events (`db.kpi_rollups.rebuild`), which also fills those of 0010 on a database upgraded
from 0009.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from db.kpi_rollups import rebuild

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fix_tables(*, linked: bool) -> None:
    op.create_table(
        "fix_pairs",
        sa.Column("ticket_source", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=500), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=linked),
        *([sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True)] if linked else []),
        sa.PrimaryKeyConstraint("ticket_source", "ticket_id", "slug"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "fix_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slug", sa.String(length=500), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "slug"),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    op.create_table(
        "first_suggestions",
        sa.Column("ticket_source", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["suggestion_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_source", "ticket_id", "company"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_first_suggestions_event_id", "first_suggestions", ["event_id"])
    op.create_table(
        "ticket_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "team"),
        sqlite_with_rowid=False,
    )
    # Rollups, rebuilt below: dropped and made again rather than altered in place (SQLite
    # would copy a WITHOUT ROWID table into an ordinary one).
    op.drop_table("fix_days")
    op.drop_table("fix_pairs")
    _fix_tables(linked=True)
    rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    """0010's shapes, filled from the offers as 0010 counted them (by first offer)."""
    op.drop_index("ix_first_suggestions_event_id", table_name="first_suggestions")
    op.drop_table("first_suggestions")
    op.drop_table("ticket_days")
    op.rename_table("fix_pairs", "fix_pairs_0011")
    op.drop_table("fix_days")
    _fix_tables(linked=False)
    op.execute(
        "INSERT INTO fix_pairs (ticket_source, ticket_id, slug, first_at) SELECT ticket_source,"
        " ticket_id, slug, first_at FROM fix_pairs_0011 WHERE first_at IS NOT NULL"
    )
    op.drop_table("fix_pairs_0011")
    pairs = sa.table(
        "fix_pairs",
        sa.column("ticket_source"),
        sa.column("ticket_id"),
        sa.column("slug"),
        sa.column("first_at", sa.DateTime(timezone=True)),
    )
    tickets = sa.table("escalated_tickets", sa.column("ticket_source"), sa.column("ticket_id"))
    postgres = op.get_bind().dialect.name == "postgresql"
    first_at = pairs.c.first_at
    utc_day = sa.cast(sa.func.timezone("UTC", first_at), sa.Date)
    day = utc_day if postgres else sa.func.date(first_at)
    counted = (
        sa.select(day, pairs.c.slug, sa.func.count())
        .join(
            tickets,
            sa.and_(
                tickets.c.ticket_source == pairs.c.ticket_source,
                tickets.c.ticket_id == pairs.c.ticket_id,
            ),
        )
        .group_by(day, pairs.c.slug)
    )
    days = sa.table("fix_days", sa.column("day"), sa.column("slug"), sa.column("tickets"))
    op.execute(sa.insert(days).from_select(["day", "slug", "tickets"], counted))
