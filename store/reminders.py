"""Reminder rows: the plan per case, and the claims, leases and marks of the sweep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update

from casework.records import (
    Claimed,
    PlanChange,
    StoredReminder,
)
from casework.reminders import Reminder
from store import queue
from store.base import Repository
from store.models import (
    ReminderRow,
)
from store.rows import (
    REMINDERS,
    WORK_STATES,
    _aware,
    _aware_or_none,
    reminders_of,
)


class ReminderRepository(Repository):
    """Reminder rows (ARCHITECTURE: Flows 4)."""

    def replace_reminders(
        self, reference: str, reminders: Sequence[Reminder], met_rules: frozenset[str], now: datetime
    ) -> PlanChange:
        """Store a case's freshly computed reminder plan, in one transaction.

        New rows are added (their key is unique, so two instances replanning at once add each row
        once); pending rows the plan no longer has are cancelled (the deadline was met or moved);
        cancelled rows the plan has again come back; rows already sent are never sent again. Sent
        cards of ``met_rules`` are marked ``met_due`` so the sweep updates them in place.
        """
        now = _aware(now, "now")
        t = REMINDERS
        planned = {r.key: r for r in reminders}
        inserted = cancelled = restored = refresh = 0
        with self._write() as s:
            existing = s.execute(
                select(t.c.id, t.c.key, t.c.state, t.c.rule_id, t.c.channel, t.c.activity_id).where(
                    t.c.reference == reference
                )
            ).all()
            known = {row.key for row in existing}
            for row in existing:
                if row.state == "pending" and row.key not in planned:
                    s.execute(
                        update(t)
                        .where(t.c.id == row.id, t.c.state == "pending")
                        .values(state="cancelled", next_attempt_at=None)
                    )
                    cancelled += 1
                elif row.state == "cancelled" and row.key in planned and planned[row.key].state == "pending":
                    r = planned[row.key]
                    s.execute(
                        update(t)
                        .where(t.c.id == row.id, t.c.state == "cancelled")
                        .values(state="pending", next_attempt_at=_aware(r.send_at, "send_at"), due_at=r.due)
                    )
                    restored += 1
                elif (
                    row.state == "sent"
                    and row.rule_id in met_rules
                    and row.channel == "teams"
                    and row.activity_id is not None
                ):
                    s.execute(
                        update(t)
                        .where(t.c.id == row.id, t.c.state == "sent")
                        .values(state="met_due", next_attempt_at=now)
                    )
                    refresh += 1
            values = [
                {
                    "key": r.key,
                    "reference": r.reference,
                    "area": r.area,
                    "process": r.process,
                    "rule_id": r.rule_id,
                    "kind": r.kind,
                    "person_id": r.person_id,
                    "audience": r.audience,
                    "send_at": _aware(r.send_at, "send_at"),
                    "due_at": _aware_or_none(r.due, "due"),
                    "state": r.state,
                    "next_attempt_at": _aware(r.send_at, "send_at") if r.state == "pending" else None,
                    "attempts": 0,
                }
                for r in reminders
                if r.key not in known
            ]
            if values:
                result = s.execute(self._insert()(ReminderRow).on_conflict_do_nothing(index_elements=["key"]), values)
                inserted = max(int(getattr(result, "rowcount", 0) or 0), 0) or len(values)
        return PlanChange(inserted, cancelled, restored, refresh)

    def reminders_for(self, reference: str) -> list[StoredReminder]:
        """A case's reminder rows, by planned time."""
        t = REMINDERS
        with self._core_read() as conn:
            rows = conn.execute(select(t).where(t.c.reference == reference).order_by(t.c.send_at, t.c.id)).all()
        return reminders_of(rows)

    def claim_reminders(self, now: datetime, owner: str, limit: int, lease_until: datetime) -> Claimed[StoredReminder]:
        """Atomically claim up to ``limit`` rows due by ``now`` that nobody holds (or whose lease
        expired), leasing them to ``owner`` until ``lease_until``, with their people's contacts
        (:func:`store.queue.claim`: one statement on PostgreSQL, one transaction on SQLite)."""
        now = _aware(now, "now")
        with self._core_write() as conn:
            got = queue.claim(
                conn, REMINDERS, self._dialect, WORK_STATES, now, owner, limit, _aware(lease_until, "lease_until")
            )
        rows = sorted(reminders_of(got.rows), key=lambda r: (r.next_attempt_at or now, r.id))
        return Claimed(rows, got.contacts, got.reclaimed)

    def extend_reminder_leases(self, reminder_ids: Sequence[int], owner: str, lease_until: datetime) -> int:
        """Keep the rows this instance is still sending: their leases move to ``lease_until``."""
        with self._write() as s:
            return queue.extend(s, REMINDERS, reminder_ids, owner, _aware(lease_until, "lease_until"))

    def _finish(self, reminder_id: int, owner: str, values: dict[str, Any]) -> bool:
        with self._write() as s:
            return queue.finish(s, REMINDERS, reminder_id, owner, values)

    def mark_reminder_sent(
        self, reminder_id: int, owner: str, at: datetime, activity_id: str, conversation: str
    ) -> bool:
        """Delivered in Teams: keep where the card is, so it can be updated when the deadline is met."""
        return self._finish(
            reminder_id,
            owner,
            {
                "state": "sent",
                "next_attempt_at": None,
                "sent_at": _aware(at, "sent at"),
                "channel": "teams",
                "activity_id": activity_id,
                "conversation": conversation,
                "last_error": None,
            },
        )

    def mark_reminder_emailed(self, reminder_id: int, owner: str, at: datetime, attempts: int, reason: str) -> bool:
        """Handed to email (no conversation reference, blocked in Teams, or too many failures);
        ``attempts`` is the total of failed Teams attempts."""
        return self._finish(
            reminder_id,
            owner,
            {
                "state": "emailed",
                "next_attempt_at": None,
                "sent_at": _aware(at, "sent at"),
                "channel": "email",
                "attempts": attempts,
                "last_error": reason[:200],
            },
        )

    def mark_reminder_failed(
        self, reminder_id: int, owner: str, attempts: int, retry_at: datetime | None, error: str
    ) -> bool:
        """A failed attempt: ``attempts`` is the new total; retried at ``retry_at``, or given up for
        good when it is None (state ``failed`` for a send, back to ``sent`` for a card update)."""
        values: dict[str, Any] = {"attempts": attempts, "last_error": error[:200]}
        if retry_at is not None:
            values["next_attempt_at"] = _aware(retry_at, "retry at")
        else:
            t = REMINDERS
            values["next_attempt_at"] = None
            # A send given up is undeliverable; a card update given up leaves the card as it was.
            values["state"] = case((t.c.state == "met_due", "sent"), else_="failed")
        return self._finish(reminder_id, owner, values)

    def mark_card_updated(self, reminder_id: int, owner: str, at: datetime) -> bool:
        """The sent card now shows that its deadline was met."""
        return self._finish(reminder_id, owner, {"state": "met_shown", "next_attempt_at": None})
