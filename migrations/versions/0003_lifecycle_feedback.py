"""article audiences and lifecycle, versions, feedback, tasks, solution links, outcomes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="published")
        )
        batch_op.add_column(
            sa.Column("companies", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("latest_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_articles_status"), ["status"], unique=False)
    op.execute("UPDATE articles SET latest_hash = content_hash")

    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "number", name="uq_article_versions"),
    )
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_versions_article_id"), ["article_id"], unique=False
        )
    # Articles from before versions existed start their history with their live content.
    op.execute(
        "INSERT INTO article_versions (article_id, number, state, markdown, content_hash, "
        "author, created_at, reviewed_by, reviewed_at, diff, note) "
        "SELECT id, 1, 'published', source_markdown, content_hash, origin, updated_at, origin, "
        "updated_at, '', 'existing before versioning' FROM articles"
    )

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("context", sa.String(length=20), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("flag", sa.String(length=20), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_target"), ["target"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_team"), ["team"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["feedback_id"], ["feedback.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_team"), ["team"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_status"), ["status"], unique=False)

    op.create_table(
        "solution_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_source", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("article_slug", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_source", "ticket_id", "article_slug", name="uq_solution_links"),
    )
    with op.batch_alter_table("solution_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_solution_links_article_slug"), ["article_slug"], unique=False
        )

    op.create_table(
        "escalation_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_source", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=200), nullable=False),
        sa.Column("suggested_team", sa.String(length=100), nullable=True),
        sa.Column("final_team", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_source", "ticket_id", name="uq_escalation_outcomes"),
    )
    with op.batch_alter_table("escalation_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_outcomes_suggested_team"), ["suggested_team"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_escalation_outcomes_final_team"), ["final_team"], unique=False
        )


def downgrade() -> None:
    op.drop_table("escalation_outcomes")
    op.drop_table("solution_links")
    op.drop_table("tasks")
    op.drop_table("feedback")
    op.drop_table("article_versions")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_status"))
        batch_op.drop_column("latest_hash")
        batch_op.drop_column("companies")
        batch_op.drop_column("status")
