"""Conversation references per person, so the bot can post proactive cards.

Revision ID: 0003_conversation_refs
Revises: 0002_audit_head
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_conversation_refs"
down_revision: str | Sequence[str] | None = "0002_audit_head"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_refs",
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_conversation_refs")),
    )


def downgrade() -> None:
    op.drop_table("conversation_refs")
