"""outbox rows can carry files (the morning digest's workbooks)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

`outbox.attachments`: a list of {"name", "sha256", "content_type"}; the bytes live in the blob store's
`outbox` area. NULL for every row made before (replies carry no files).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("attachments")
