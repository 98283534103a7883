"""the perceptual hash of each photo

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Attachments gain `phash`: imagehash's 16×16 perceptual hash of a photo's upright picture (64 hex digits), which
finds one picture sent twice (two candidates, the ID photo as a life photo, two units) even when re-saved or
resized. NULL for files that are not photos and for photos recorded before, until they are reprocessed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("phash")
