"""Bookings of Stage 2 meetings and panels: Graph transactionId, event id, join URL, invitees and answers.

Revision ID: 0005_bookings
Revises: 0004_reminders
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_bookings"
down_revision: str | Sequence[str] | None = "0004_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("organiser", sa.String(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invitees", sa.Text(), nullable=False),
        sa.Column("booked_by", sa.String(), nullable=False),
        sa.Column("chair_id", sa.String(), nullable=True),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("join_url", sa.Text(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("delay_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("reference", "purpose", "revision", name=op.f("uq_bookings_reference_purpose_revision")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_bookings_transaction_id")),
    )
    op.create_index(op.f("ix_bookings_reference"), "bookings", ["reference"], unique=False)
    op.create_index(op.f("ix_bookings_state_end_at"), "bookings", ["state", "end_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_bookings_state_end_at"), table_name="bookings")
    op.drop_index(op.f("ix_bookings_reference"), table_name="bookings")
    op.drop_table("bookings")
