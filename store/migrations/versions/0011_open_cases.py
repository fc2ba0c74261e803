"""Open cases: a flag on each conference saying whether casework may still find work in it, and the
indexes that let ``deadlines``, the replan and the digest read the open work instead of the history.

Every existing case starts open: "open" means "not yet judged closed" (casework.openness), and only
casework, with the area's rules, can judge a case closed. The first replan (the 06:30 job, or any
change to the case) settles each one; until then the reads are as wide as before, never narrower.

Revision ID: 0011_open_cases
Revises: 0010_person_identities
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_open_cases"
down_revision: str | Sequence[str] | None = "0010_person_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_conferences_is_open_area", "conferences", ["is_open", "area"]),
    ("ix_conferences_chair_id", "conferences", ["chair_id"]),
    ("ix_complaints_area_stage", "complaints", ["area", "stage"]),
    ("ix_complaints_area_received_at", "complaints", ["area", "received_at"]),
    ("ix_case_events_name_at", "case_events", ["name", "at"]),
)


def upgrade() -> None:
    # The server default fills every existing row (the backfill): open until casework judges otherwise.
    op.add_column("conferences", sa.Column("is_open", sa.Boolean(), server_default=sa.true(), nullable=False))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("conferences") as batch:
        batch.drop_column("is_open")
