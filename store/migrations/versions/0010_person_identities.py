"""Who a Teams user is: the (tenant id, Entra object id) pair linked to a registered person.

An object id is unique only within its tenant, and a roster email is something another tenant can
claim (issue 11: an activity from another tenant matched the chair's email and acted as the chair).
So a person is found by the pair, and the roster email may link a registered person to a pair once,
in the home tenant, with an audit entry; ``person_id`` is unique, so a person has one pair.

Revision ID: 0010_person_identities
Revises: 0009_lease_index
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_person_identities"
down_revision: str | Sequence[str] | None = "0009_lease_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_identities",
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("object_id", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "object_id", name=op.f("pk_person_identities")),
        sa.UniqueConstraint("person_id", name=op.f("uq_person_identities_person_id")),
    )


def downgrade() -> None:
    op.drop_table("person_identities")
