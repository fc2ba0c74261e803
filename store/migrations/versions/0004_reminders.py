"""Reminder rows: the scheduler's work, claimed with a lease so several instances share it.

Revision ID: 0004_reminders
Revises: 0003_conversation_refs
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reminders"
down_revision: str | Sequence[str] | None = "0003_conversation_refs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    # UTC instants; store.models.UTCDateTime converts on the way in and out.
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("area", sa.String(), nullable=False),
        sa.Column("process", sa.String(), nullable=False),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("audience", sa.String(), nullable=False),
        _ts("send_at", nullable=False),
        _ts("due_at", nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        # When the row next needs work (NULL: none); the claim is a range scan of its index.
        _ts("next_attempt_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        _ts("lease_until", nullable=True),
        _ts("sent_at", nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("activity_id", sa.String(), nullable=True),
        sa.Column("conversation", sa.Text(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("key", name=op.f("uq_reminders_key")),
    )
    op.create_index(op.f("ix_reminders_next_attempt_at"), "reminders", ["next_attempt_at"], unique=False)
    op.create_index(op.f("ix_reminders_reference"), "reminders", ["reference"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reminders_reference"), table_name="reminders")
    op.drop_index(op.f("ix_reminders_next_attempt_at"), table_name="reminders")
    op.drop_table("reminders")
