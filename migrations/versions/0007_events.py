"""suggestion and search events (issue 12): what the KPIs are computed from

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suggestion_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("ticket_source", sa.String(length=100), nullable=True),
        sa.Column("ticket_id", sa.String(length=200), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("escalation_team", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("suggestion_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suggestion_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_suggestion_events_company"), ["company"], unique=False)
        batch_op.create_index(batch_op.f("ix_suggestion_events_team"), ["team"], unique=False)
        batch_op.create_index(
            "ix_suggestion_events_ticket", ["ticket_source", "ticket_id"], unique=False
        )
    op.create_table(
        "suggestion_shown",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["suggestion_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "rank"),
    )
    with op.batch_alter_table("suggestion_shown", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suggestion_shown_target"), ["target"], unique=False)
    op.create_table(
        "search_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("top_score", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("search_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_events_company"), ["company"], unique=False)


def downgrade() -> None:
    op.drop_table("search_events")
    op.drop_table("suggestion_shown")
    op.drop_table("suggestion_events")
