"""Claims, per-row leases and marks for the sweep's two queues: reminders and notices.

One implementation, so the outbox gets exactly the reminders' guarantees (ARCHITECTURE: Flows 4-5):

- Claim: PostgreSQL ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``,
  so concurrent claimers take disjoint rows without waiting; SQLite, the same select and update in
  one ``BEGIN IMMEDIATE`` transaction (one writer at a time).
- Lease: every row carries its own ``lease_until``; the sweep extends the leases of the rows it is
  still sending (:func:`extend`), as pg-boss, graphile-worker and Oban do, so a slow batch never
  lets another instance take its rows. Only a dead or stalled instance's rows expire.
- Mark: ``finish`` updates a row only while this owner holds it, and releases the lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, or_, select, update
from sqlalchemy.orm import Session


def claim(
    s: Session,
    table: Table,
    dialect: str,
    work_states: Sequence[str],
    now: datetime,
    owner: str,
    limit: int,
    lease_until: datetime,
) -> list[Row[Any]]:
    """Claim up to ``limit`` rows due by ``now`` that nobody holds (or whose lease expired)."""
    t = table
    due = (
        select(t.c.id)
        .where(
            t.c.next_attempt_at <= now,
            t.c.state.in_(work_states),
            or_(t.c.lease_until.is_(None), t.c.lease_until < now),
        )
        .order_by(t.c.next_attempt_at)
        .limit(limit)
    )
    if dialect == "postgresql":
        stmt = (
            update(t)
            .where(t.c.id.in_(due.with_for_update(skip_locked=True).scalar_subquery()))
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*t.c)
        )
        return list(s.execute(stmt).all())
    ids = list(s.scalars(due))
    if not ids:
        return []
    s.execute(update(t).where(t.c.id.in_(ids)).values(lease_owner=owner, lease_until=lease_until))
    return list(s.execute(select(t).where(t.c.id.in_(ids))).all())


def finish(s: Session, table: Table, row_id: int, owner: str, values: dict[str, Any]) -> bool:
    """Update a row this owner holds and release its lease; False if the lease was lost."""
    t = table
    result = s.execute(
        update(t).where(t.c.id == row_id, t.c.lease_owner == owner).values(lease_owner=None, lease_until=None, **values)
    )
    return bool(getattr(result, "rowcount", 0))


def extend(s: Session, table: Table, row_ids: Sequence[int], owner: str, lease_until: datetime) -> int:
    """Push out the leases this owner still holds on ``row_ids``; returns how many it still holds."""
    if not row_ids:
        return 0
    t = table
    result = s.execute(
        update(t).where(t.c.id.in_(list(row_ids)), t.c.lease_owner == owner).values(lease_until=lease_until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def release_expired(s: Session, table: Table, work_states: Sequence[str], now: datetime) -> int:
    """Clear leases that ran out (their holder crashed or stalled), so any instance takes the rows."""
    t = table
    result = s.execute(
        update(t)
        .where(t.c.lease_until.is_not(None), t.c.lease_until < now, t.c.state.in_(work_states))
        .values(lease_owner=None, lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
