"""messages keep the sender's display name and the reason for their kind

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Both are NULL for messages recorded before; `reprocess` fills them in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_name", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("kind_reason", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("kind_reason")
        batch_op.drop_column("sender_name")
