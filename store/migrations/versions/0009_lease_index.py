"""Index the leases the sweep releases each minute, so that step reads only the rows that are leased
(a partial index: a row's lease is set only while it is being sent), not the whole table.

Revision ID: 0009_lease_index
Revises: 0008_free_text
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_lease_index"
down_revision: str | Sequence[str] | None = "0008_free_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEASED = sa.text("lease_until IS NOT NULL")


def upgrade() -> None:
    for table in ("reminders", "notices"):
        op.create_index(f"ix_{table}_lease_until", table, ["lease_until"], sqlite_where=LEASED, postgresql_where=LEASED)


def downgrade() -> None:
    for table in ("reminders", "notices"):
        op.drop_index(f"ix_{table}_lease_until", table_name=table)
