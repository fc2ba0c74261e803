"""The keyed audit chain: each entry's HMAC, the id of the key that made it, and the old key's
signature on the first entry of a new key's segment.

Revision ID: 0007_audit_mac
Revises: 0006_unit_of_work
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_audit_mac"
down_revision: str | Sequence[str] | None = "0006_unit_of_work"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("cross_mac", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("cross_mac")
        batch.drop_column("key_id")
        batch.drop_column("mac")
