"""The notice outbox: notices written in the action's own transaction, delivered by the sweep.

A notice row is written inside the unit of work of the action that caused it, so the chair's prompt
exists exactly when the dissent does (ARCHITECTURE: Writing, Flows 5). ``key`` is unique: replaying
an action queues nothing new. Delivery uses :mod:`store.queue`, the reminders' claims and leases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from casework.records import Claimed, Notice, StoredNotice
from store import queue
from store.base import Repository
from store.models import NoticeRow
from store.rows import NOTICE_WORK_STATES, NOTICES, _aware, notices_of


class NoticeRepository(Repository):
    """Outbound notices, one row each (ARCHITECTURE: Flows 5)."""

    def add_notices(self, notices: Sequence[Notice], now: datetime) -> int:
        """Queue notices to send at once; a key already queued is left as it is. Returns how many are new."""
        if not notices:
            return 0
        at = _aware(now, "now")
        values = [
            {
                "key": n.key,
                "kind": n.kind,
                "person_id": n.person_id,
                "reference": n.reference,
                "dissent_id": n.dissent_id,
                "occasion": n.occasion,
                "state": "pending",
                "created_at": at,
                "next_attempt_at": at,
                "attempts": 0,
            }
            for n in {n.key: n for n in notices}.values()
        ]
        with self._write() as s:
            result = s.execute(self._insert()(NoticeRow).on_conflict_do_nothing(index_elements=["key"]), values)
            return max(int(getattr(result, "rowcount", 0) or 0), 0)

    def notices_for(self, reference: str) -> list[StoredNotice]:
        """A case's notices, oldest first."""
        t = NOTICES
        with self._core_read() as conn:
            rows = conn.execute(select(t).where(t.c.reference == reference).order_by(t.c.id)).all()
        return notices_of(rows)

    def claim_notices(self, now: datetime, owner: str, limit: int, lease_until: datetime) -> Claimed[StoredNotice]:
        """Claim up to ``limit`` notices due by ``now``, as :meth:`claim_reminders` claims reminders."""
        now = _aware(now, "now")
        with self._core_write() as conn:
            got = queue.claim(
                conn, NOTICES, self._dialect, NOTICE_WORK_STATES, now, owner, limit, _aware(lease_until, "lease_until")
            )
        return Claimed(sorted(notices_of(got.rows), key=lambda n: n.id), got.contacts, got.reclaimed)

    def extend_notice_leases(self, notice_ids: Sequence[int], owner: str, lease_until: datetime) -> int:
        with self._write() as s:
            return queue.extend(s, NOTICES, notice_ids, owner, _aware(lease_until, "lease_until"))

    def mark_notice_sent(self, notice_id: int, owner: str, at: datetime, activity_id: str, conversation: str) -> bool:
        values = {
            "state": "sent",
            "next_attempt_at": None,
            "sent_at": _aware(at, "sent at"),
            "channel": "teams",
            "activity_id": activity_id,
            "conversation": conversation,
            "last_error": None,
        }
        with self._write() as s:
            return queue.finish(s, NOTICES, notice_id, owner, values)

    def mark_notice_emailed(self, notice_id: int, owner: str, at: datetime, attempts: int, reason: str) -> bool:
        values = {
            "state": "emailed",
            "next_attempt_at": None,
            "sent_at": _aware(at, "sent at"),
            "channel": "email",
            "attempts": attempts,
            "last_error": reason[:200],
        }
        with self._write() as s:
            return queue.finish(s, NOTICES, notice_id, owner, values)

    def mark_notice_failed(
        self, notice_id: int, owner: str, attempts: int, retry_at: datetime | None, error: str
    ) -> bool:
        """A failed attempt, retried at ``retry_at``; given up for good (``failed``) when it is None."""
        values: dict[str, object] = {"attempts": attempts, "last_error": error[:200]}
        if retry_at is None:
            values.update(state="failed", next_attempt_at=None)
        else:
            values["next_attempt_at"] = _aware(retry_at, "retry at")
        with self._write() as s:
            return queue.finish(s, NOTICES, notice_id, owner, values)
