"""settling, the per-address rate limit and bounces of our replies

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Messages gain `awaiting_reply` (owed a reply whose burst is still settling; false for messages recorded
before, which were answered one by one) and `reply_address`
(where its reply goes, RFC 3834). Outbox rows gain `to_day` (the campaign-timezone day a reply was
decided, which the per-address rate limit counts; NULL before) and `bounced_by_id` (the message that
returned the reply).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting_reply", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("reply_address", sa.String(length=320), nullable=True))
        batch_op.create_index(batch_op.f("ix_message_awaiting_reply"), ["awaiting_reply"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("to_day", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("bounced_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_to_day"), ["to_day"], unique=False)
        batch_op.create_foreign_key("fk_outbox_bounced_by_id_message", "message", ["bounced_by_id"], ["id"],
                                    ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_bounced_by_id_message", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_to_day"))
        batch_op.drop_column("bounced_by_id")
        batch_op.drop_column("to_day")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_awaiting_reply"))
        batch_op.drop_column("reply_address")
        batch_op.drop_column("awaiting_reply")
