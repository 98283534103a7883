"""organisers' decisions about a unit (paper copy received) and the day each was decided

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

`decision.message_key` becomes optional (a unit decision names `unit_name` instead); `decided_on` is the
day the organiser gives for the decision (NULL before: those decisions are ordered by when they were
recorded, as before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.alter_column("message_key", existing_type=sa.String(length=40), nullable=True)
        batch_op.add_column(sa.Column("unit_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("decided_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_decision_unit_name"), ["unit_name"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM decision WHERE message_key IS NULL")  # unit decisions had no place before
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_unit_name"))
        batch_op.drop_column("decided_on")
        batch_op.drop_column("unit_name")
        batch_op.alter_column("message_key", existing_type=sa.String(length=40), nullable=False)
