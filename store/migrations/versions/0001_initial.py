"""Initial tables: people, role grants, conferences, attendees, dissents, complaints, events, audit log.

Case references only: no child or family names, anywhere.

Revision ID: 0001_initial
Revises:
Create Date: 2025-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    # UTC instants; store.models.UTCDateTime converts on the way in and out.
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("line_manager_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    op.create_table(
        "role_grants",
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("area", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "role", "area", name=op.f("pk_role_grants")),
    )
    op.create_index(op.f("ix_role_grants_role_area"), "role_grants", ["role", "area"], unique=False)
    op.create_table(
        "conferences",
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("area", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        _ts("scheduled_at", nullable=True),
        _ts("held_at", nullable=True),
        _ts("ended_at", nullable=True),
        sa.Column("chair_id", sa.String(), nullable=True),
        sa.Column("meeting_chat_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_conferences")),
        sa.UniqueConstraint("meeting_chat_id", name=op.f("uq_conferences_meeting_chat_id")),
    )
    op.create_table(
        "attendees",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reference"],
            ["conferences.reference"],
            name=op.f("fk_attendees_reference_conferences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendees")),
        sa.UniqueConstraint("reference", "person_id", name=op.f("uq_attendees_reference_person_id")),
    )
    op.create_index(op.f("ix_attendees_person_id"), "attendees", ["person_id"], unique=False)
    op.create_table(
        "dissents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _ts("raised_at", nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dissents")),
    )
    op.create_index(op.f("ix_dissents_reference"), "dissents", ["reference"], unique=False)
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("area", sa.String(), nullable=False),
        _ts("received_at", nullable=False),
        sa.Column("complainant_role", sa.String(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    op.create_index(op.f("ix_complaints_reference"), "complaints", ["reference"], unique=False)
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        _ts("at", nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_reference"), "case_events", ["reference"], unique=False)
    op.create_table(
        "audit_log",
        # Assigned by the store (last + 1) under a lock: it is hashed, so it must not come from a
        # sequence that can skip numbers on rollback.
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        _ts("at", nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_reference"), "audit_log", ["reference"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_reference"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_case_events_reference"), table_name="case_events")
    op.drop_table("case_events")
    op.drop_index(op.f("ix_complaints_reference"), table_name="complaints")
    op.drop_table("complaints")
    op.drop_index(op.f("ix_dissents_reference"), table_name="dissents")
    op.drop_table("dissents")
    op.drop_index(op.f("ix_attendees_person_id"), table_name="attendees")
    op.drop_table("attendees")
    op.drop_table("conferences")
    op.drop_index(op.f("ix_role_grants_role_area"), table_name="role_grants")
    op.drop_table("role_grants")
    op.drop_table("people")
