"""Claims that rewrite no index: drop the lease indexes of 0009 and leave room on each page, so that
leasing a reminder or a notice is a heap-only (HOT) update on PostgreSQL.

Why (issue 12): a claim sets ``lease_owner`` and ``lease_until``. With ``lease_until`` indexed, every
claimed row was written again in all five of its table's indexes; on a million stored rows the
sweep's claims cost about twice what they do without it. The index served only the minute's release
of expired leases, and the claim now takes such rows itself (``store.queue.claim``), so nothing reads
it. A fill factor of 90 keeps a tenth of each new page free for the row's next version; pages
written before this revision get that room as rows are updated and vacuumed (``VACUUM FULL
reminders`` in a quiet hour applies it at once). SQLite has no fill factor and no HOT: only the
index goes there.

Revision ID: 0012_claims_in_place
Revises: 0011_open_cases
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_claims_in_place"
down_revision: str | Sequence[str] | None = "0011_open_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUES = ("reminders", "notices")
FILL_FACTOR = 90
LEASED = sa.text("lease_until IS NOT NULL")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in QUEUES:
        op.drop_index(f"ix_{table}_lease_until", table_name=table)
        if postgres:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILL_FACTOR})")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in QUEUES:
        if postgres:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        op.create_index(f"ix_{table}_lease_until", table, ["lease_until"], sqlite_where=LEASED, postgresql_where=LEASED)
