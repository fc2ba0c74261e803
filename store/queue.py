"""Claims, per-row leases and marks for the sweep's two queues: reminders and notices.

One implementation, so the outbox gets exactly the reminders' guarantees (ARCHITECTURE: Flows 4-5):

- Claim: PostgreSQL one statement (``SELECT ... FOR UPDATE SKIP LOCKED LIMIT n``, ``UPDATE ... RETURNING``
  and the people's contacts), so concurrent claimers take disjoint rows without waiting; SQLite, the
  same select and update in one ``BEGIN IMMEDIATE`` transaction (one writer at a time). A row whose
  holder's lease ran out is claimable again: that is how a crashed instance's rows go out.
- Lease: every row carries its own ``lease_until``; the sweep extends the leases of the rows it is
  still sending (:func:`extend`), as pg-boss, graphile-worker and Oban do, so a slow batch never
  lets another instance take its rows. Only a dead or stalled instance's rows expire.
- Mark: ``finish`` updates a row only while this owner holds it, and releases the lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, Row, Select, Table, any_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from casework.records import Claimed, Contact
from store.models import ConversationRefRow, PersonRow
from store.statements import read_contacts


def _due(t: Table, work_states: Sequence[str]) -> Select[Any]:
    """Rows due by ``:now`` that nobody holds, or whose holder's lease ran out, soonest first: one
    range scan of the ``next_attempt_at`` index. ``was_held`` says which had a lease."""
    now: BindParameter[datetime] = bindparam("now")
    return (
        select(t.c.id, t.c.lease_owner.label("was_held"))
        .where(
            t.c.next_attempt_at <= now,
            t.c.state.in_(work_states),
            or_(t.c.lease_until.is_(None), t.c.lease_until < now),
        )
        .order_by(t.c.next_attempt_at)
        .limit(bindparam("limit"))
    )


_PEOPLE = cast(Table, PersonRow.__table__)
_REFS = cast(Table, ConversationRefRow.__table__)


@lru_cache(maxsize=8)
def _postgres_claim(t: Table, work_states: tuple[str, ...]) -> Select[Any]:
    """PostgreSQL: the claim and the contacts as one statement, built once per queue.

    ``due`` locks the rows it picks (``FOR UPDATE SKIP LOCKED``), so concurrent claimers take
    disjoint rows without waiting; ``claimed`` leases them, finding them by primary key
    (``= ANY(ARRAY(...))``: the planner otherwise hashed the whole table to join them); the outer
    select joins each row to its person's email and conversation reference. Why one statement: a
    separate contacts read was a second round trip per batch. The lease columns are in no index,
    so the claim is a heap-only (HOT) update on a page with room (migration 0012's fill factor).
    """
    due = _due(t, work_states).with_for_update(skip_locked=True).cte("due")
    claimed = (
        update(t)
        .where(t.c.id == any_(func.array(select(due.c.id).scalar_subquery())))
        .values(lease_owner=bindparam("owner"), lease_until=bindparam("lease_until"))
        .returning(*t.c)
        .cte("claimed")
    )
    return select(
        claimed,
        due.c.was_held,
        _PEOPLE.c.email.label("contact_email"),
        _REFS.c.reference.label("contact_conversation"),
    ).select_from(
        claimed.join(due, due.c.id == claimed.c.id)
        .outerjoin(_PEOPLE, _PEOPLE.c.id == claimed.c.person_id)
        .outerjoin(_REFS, _REFS.c.person_id == claimed.c.person_id)
    )


def claim(
    conn: Connection,
    table: Table,
    dialect: str,
    work_states: Sequence[str],
    now: datetime,
    owner: str,
    limit: int,
    lease_until: datetime,
) -> Claimed[Row[Any]]:
    """Claim up to ``limit`` rows due by ``now`` that nobody holds (or whose lease expired), leasing
    them to ``owner`` until ``lease_until``, with their people's contacts.

    An expired lease is taken over here, in the claim, rather than released by a statement of its
    own each minute: a release had to find leased rows, which needed an index on ``lease_until``,
    and that index made every claim rewrite every index of the row (issue 12).
    """
    params = {"now": now, "limit": limit, "owner": owner, "lease_until": lease_until}
    if dialect == "postgresql":
        rows = list(conn.execute(_postgres_claim(table, tuple(work_states)), params).all())
        if not rows:
            return Claimed([], {}, 0)
        names = rows[0]._fields  # read by position: by name, four fields a row cost about 7 µs a row here
        person, email, conversation, held = (
            names.index(n) for n in ("person_id", "contact_email", "contact_conversation", "was_held")
        )
        contacts = {r[person]: Contact(r[person], r[email], r[conversation]) for r in rows}
        return Claimed(rows, contacts, sum(1 for r in rows if r[held] is not None))
    t = table
    picked = conn.execute(_due(t, work_states), params).all()
    if not picked:
        return Claimed([], {}, 0)
    ids = [p.id for p in picked]
    conn.execute(update(t).where(t.c.id.in_(ids)).values(lease_owner=owner, lease_until=lease_until))
    rows = list(conn.execute(select(t).where(t.c.id.in_(ids))).all())
    contacts = read_contacts(conn, dialect, [r.person_id for r in rows])
    return Claimed(rows, contacts, sum(1 for p in picked if p.was_held is not None))


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
