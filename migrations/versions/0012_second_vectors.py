"""Passages keep a second embedding: the search's second model (all-MiniLM-L6-v2), English only

`second_model_id` names the model, `second_embedding` holds its float32 vector; both stay
empty for passages that are not English and until `stellwerk index rebuild` fills them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("second_model_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("second_embedding", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.drop_column("second_embedding")
        batch_op.drop_column("second_model_id")
