"""findings keep their parameters and their candidate

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Findings gain `params` (JSON: the facts the sentence is rendered from) and `candidate_id` (the candidate a
candidate finding is about, by identity). `detail` becomes nullable: rows written from now on carry params
instead. Existing rows keep their sentence and get NULL params; their candidate findings are tied to the
candidate of the same unit whose name is the finding's subject.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.alter_column("detail", existing_type=sa.Text(), nullable=True)
        batch_op.create_index(batch_op.f("ix_finding_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_foreign_key("fk_finding_candidate_id_candidate", "candidate", ["candidate_id"], ["id"],
                                    ondelete="CASCADE")
    op.execute(
        "UPDATE finding SET candidate_id = (SELECT candidate.id FROM candidate"
        " WHERE candidate.unit_id = finding.unit_id AND candidate.name = finding.subject)"
        " WHERE finding.scope = 'candidate'"
    )


def downgrade() -> None:
    from mailintake.common.findings import render  # rows written since 0002 need their sentence back

    bind = op.get_bind()
    finding = sa.table("finding", sa.column("id", sa.Integer), sa.column("code", sa.String),
                       sa.column("subject", sa.Text), sa.column("params", sa.JSON), sa.column("detail", sa.Text))
    rows = bind.execute(sa.select(finding.c.id, finding.c.code, finding.c.subject, finding.c.params)
                        .where(finding.c.detail.is_(None))).all()
    for row in rows:
        bind.execute(finding.update().where(finding.c.id == row.id)
                     .values(detail=render(row.code, row.subject, row.params or {})))
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.drop_constraint("fk_finding_candidate_id_candidate", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_finding_candidate_id"))
        batch_op.alter_column("detail", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("params")
        batch_op.drop_column("candidate_id")
