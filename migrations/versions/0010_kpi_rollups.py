"""KPI rollups per day, confirmed suggestions, fixes offered, escalated tickets (issue 12)

The rollups are filled from the events already stored by 0011 (`db.kpi_rollups.rebuild`
writes the rollups of the code's own time, which 0011 completes), so an upgraded database
shows the same figures as before; `stellwerk db rebuild-kpi-rollups` does the same at any
time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RANGE_INDEXES = (
    ("tickets", "resolved_at"),
    ("feedback", "created_at"),
    ("solution_links", "created_at"),
    ("escalation_outcomes", "created_at"),
)


def upgrade() -> None:
    op.create_table(
        "suggestion_confirmed",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["suggestion_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "suggestion_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("escalation_team", sa.String(length=100), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "team", "company", "action", "escalation_team"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("empty", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "company"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "fix_pairs",
        sa.Column("ticket_source", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=500), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
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
    op.create_table(
        "escalated_tickets",
        sa.Column("ticket_source", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("ticket_source", "ticket_id"),
        sqlite_with_rowid=False,
    )
    # A firm's first suggestion for a ticket (routing) is one index probe with its company.
    with op.batch_alter_table("suggestion_events", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_events_ticket")
        batch_op.create_index(
            "ix_suggestion_events_ticket", ["ticket_source", "ticket_id", "company"], unique=False
        )
    for table, column in RANGE_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suggestion_events", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_events_ticket")
        batch_op.create_index(
            "ix_suggestion_events_ticket", ["ticket_source", "ticket_id"], unique=False
        )
    for table, column in RANGE_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    op.drop_table("escalated_tickets")
    op.drop_table("fix_days")
    op.drop_table("fix_pairs")
    op.drop_table("search_days")
    op.drop_table("suggestion_days")
    op.drop_table("suggestion_confirmed")
