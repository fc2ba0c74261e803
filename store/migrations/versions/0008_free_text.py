"""Free text out of the audit log: a decision's reasons and a correction's reason live in case_texts,
referred to from the audit entry by their hash (issue 13 item 3).

Revision ID: 0008_free_text
Revises: 0007_audit_mac
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_free_text"
down_revision: str | Sequence[str] | None = "0007_audit_mac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_texts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_texts")),
    )
    op.create_index(op.f("ix_case_texts_reference"), "case_texts", ["reference"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_texts_reference"), table_name="case_texts")
    op.drop_table("case_texts")
