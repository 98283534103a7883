"""a general outbox (own Message-ID, fixed content) and the unique link to the messages a reply covers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

The 0001 `outbox` table (one row per message, no content) is rebuilt: its rows keep their id, kind, state
and Message-ID, gain empty content, and link to their message through `outbox_cover`. Downgrading keeps
each row with the first message it covers (the content and any further covers are lost). Messages gain
`reply_block`, the loop rule that forbids an automatic reply (NULL before this revision).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _empty_json() -> str:
    return "CAST('{}' AS JSON)" if op.get_bind().dialect.name == "postgresql" else "'{}'"


def upgrade() -> None:
    op.rename_table("outbox", "outbox_0001")
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rfc822_message_id", sa.String(length=998), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rfc822_message_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_state"), ["state"], unique=False)
    op.create_table(
        "outbox_cover",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("outbox_id", "message_id"),
        sa.UniqueConstraint("message_id"),
    )
    op.execute("INSERT INTO outbox (id, rfc822_message_id, kind, state, to_address, subject, text_body, html_body, "
               f"snapshot, attempts, last_error, created_at, sent_at) SELECT id, COALESCE(rfc822_message_id, "
               f"'<legacy-' || id || '@mailintake>'), kind, state, '', '', '', '', {_empty_json()}, attempts, "
               "last_error, created_at, sent_at FROM outbox_0001")
    op.execute("INSERT INTO outbox_cover (outbox_id, message_id) SELECT id, message_id FROM outbox_0001")
    op.drop_table("outbox_0001")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_block", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("reply_block")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_state"))
    op.rename_table("outbox", "outbox_0004")
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rfc822_message_id", sa.String(length=998), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.execute("INSERT INTO outbox (id, message_id, kind, state, rfc822_message_id, attempts, last_error, created_at, "
               "sent_at) SELECT o.id, c.message_id, o.kind, o.state, o.rfc822_message_id, o.attempts, o.last_error, "
               "o.created_at, o.sent_at FROM outbox_0004 o JOIN (SELECT outbox_id, MIN(message_id) AS message_id "
               "FROM outbox_cover GROUP BY outbox_id) c ON c.outbox_id = o.id")
    op.drop_table("outbox_cover")
    op.drop_table("outbox_0004")
