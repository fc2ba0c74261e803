"""One action, one transaction: the notice outbox, and unique constraints that stop duplicates.

- ``notices``: outbound notices written in the action's own transaction, delivered by the sweep.
- ``uq_dissents_open``: one open (raised or recorded) dissent per professional per conference.
- complaints: one per case, received date and complainant unless a second is confirmed (``repeat``);
  ``received_time_given`` records whether the user gave a time with the received date.

A database holding duplicate open dissents from before this revision must have them withdrawn
(``cpc case correct``) before upgrading: the unique index refuses to build over them.

Revision ID: 0006_unit_of_work
Revises: 0005_bookings
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_unit_of_work"
down_revision: str | Sequence[str] | None = "0005_bookings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state IN ('raised', 'recorded')")


def _ts(name: str, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("dissent_id", sa.Integer(), nullable=True),
        sa.Column("occasion", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("next_attempt_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        _ts("lease_until", nullable=True),
        _ts("sent_at", nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("activity_id", sa.String(), nullable=True),
        sa.Column("conversation", sa.Text(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_notices_key")),
    )
    op.create_index(op.f("ix_notices_next_attempt_at"), "notices", ["next_attempt_at"], unique=False)
    op.create_index(op.f("ix_notices_reference"), "notices", ["reference"], unique=False)
    op.create_index(
        "uq_dissents_open",
        "dissents",
        ["reference", "person_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("dissents") as batch:
        batch.add_column(_ts("decided_at", nullable=True))
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(_ts("withdrawn_at", nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(), nullable=True))
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("received_time_given", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("repeat", sa.Integer(), nullable=False, server_default="0"))
        batch.create_unique_constraint(
            batch.f("uq_complaints_reference_received_at_complainant_role_repeat"),
            ["reference", "received_at", "complainant_role", "repeat"],
        )


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_constraint("uq_complaints_reference_received_at_complainant_role_repeat", type_="unique")
        batch.drop_column("repeat")
        batch.drop_column("received_time_given")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
    with op.batch_alter_table("dissents") as batch:
        batch.drop_column("decided_at")
    op.drop_index("uq_dissents_open", table_name="dissents")
    op.drop_index(op.f("ix_notices_reference"), table_name="notices")
    op.drop_index(op.f("ix_notices_next_attempt_at"), table_name="notices")
    op.drop_table("notices")
