"""satisfaction pulses, team digest endpoints, first escalation team (issue 12, items 2, 5, 6)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pulses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_source", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("aspect", sa.String(length=20), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=True),
        sa.Column("justified", sa.Boolean(), nullable=True),
        sa.Column("right_team", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_source", "ticket_id", "actor", "aspect", name="uq_pulses"),
    )
    with op.batch_alter_table("pulses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulses_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pulses_company"), ["company"], unique=False)
        batch_op.create_index("ix_pulses_team_at", ["team", "at"], unique=False)
    op.create_table(
        "team_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team"),
    )
    with op.batch_alter_table("tool_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_team", sa.String(length=100), nullable=True))
    with op.batch_alter_table("escalation_outcomes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_team", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalation_outcomes", schema=None) as batch_op:
        batch_op.drop_column("first_team")
    with op.batch_alter_table("tool_tickets", schema=None) as batch_op:
        batch_op.drop_column("first_team")
    op.drop_table("team_endpoints")
    op.drop_table("pulses")
