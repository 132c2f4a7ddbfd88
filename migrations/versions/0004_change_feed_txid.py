"""index changes carry their writing transaction's id (PostgreSQL), for a gap-safe feed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On PostgreSQL the column defaults to the inserting transaction's id; on SQLite it
    # stays NULL (there, commits happen in sequence order).
    postgres = op.get_bind().dialect.name == "postgresql"
    default = sa.text("(pg_current_xact_id()::text::bigint)") if postgres else None
    with op.batch_alter_table("index_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("txid", sa.BigInteger(), nullable=True, server_default=default)
        )
        batch_op.create_index("ix_index_changes_txid", ["txid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("index_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_index_changes_txid")
        batch_op.drop_column("txid")
