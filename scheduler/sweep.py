"""The reminder sweep: claim due rows, deliver them, mark them (ARCHITECTURE: Flows 4).

The APScheduler job holds no state: every reminder is a row. A sweep claims due rows atomically
with a lease (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite one writer), delivers each (a proactive
card, else email), and marks it at once, so a crash leaves at most the rows it was sending unmarked;
their lease expires and any instance sends them. Database calls run on worker threads
(``asyncio.to_thread``) so the event loop keeps answering Teams while a sweep runs.

Logs name reminder ids, kinds and statuses, never a person or an address.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.views import reminder_card, reminder_met_card
from casework.packs import Area
from casework.ports import CaseStore
from casework.records import Contact, StoredReminder
from casework.rules import Rule
from scheduler.delivery import ReminderDelivery

log = logging.getLogger("cpc.reminders")


def instance_id() -> str:
    """Who holds a lease: host, process id and a random part (a restarted process is a new owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class SweepReport:
    claimed: int = 0
    sent: int = 0
    emailed: int = 0
    updated: int = 0
    retried: int = 0
    failed: int = 0
    lost_leases: int = 0
    reclaimed: int = 0


@dataclass
class Sweep:
    store: CaseStore
    areas: Mapping[str, Area]
    delivery: ReminderDelivery
    now: Callable[[], datetime]
    batch: int = 100
    lease_seconds: float = 120.0
    concurrency: int = 16
    owner: str = field(default_factory=instance_id)
    max_batches: int = 1000

    async def run(self) -> SweepReport:
        """One sweep: claim and deliver batches until nothing is due (or ``max_batches``)."""
        report = SweepReport()
        report.reclaimed = await asyncio.to_thread(self.store.release_expired_leases, self.now())
        if report.reclaimed:
            log.info("reclaimed %d reminders whose lease had expired", report.reclaimed)
        for _ in range(self.max_batches):
            now = self.now()
            rows = await asyncio.to_thread(
                self.store.claim_reminders, now, self.owner, self.batch, now + timedelta(seconds=self.lease_seconds)
            )
            if not rows:
                break
            report.claimed += len(rows)
            contacts = await asyncio.to_thread(self.store.reminder_contacts, [r.person_id for r in rows])
            gate = asyncio.Semaphore(self.concurrency)
            await asyncio.gather(*(self._gated(gate, r, contacts.get(r.person_id), report) for r in rows))
            if len(rows) < self.batch:
                break
        if report.claimed:
            log.info(
                "sweep: %d claimed, %d sent, %d emailed, %d updated, %d to retry, %d failed, %d leases lost",
                report.claimed,
                report.sent,
                report.emailed,
                report.updated,
                report.retried,
                report.failed,
                report.lost_leases,
            )
        return report

    async def job(self) -> None:
        """The APScheduler job: a sweep whose failure is logged, never raised into the scheduler."""
        try:
            await self.run()
        except Exception as exc:
            log.error("reminder sweep failed: %s", type(exc).__name__)

    # ------------------------------------------------------------------ one row

    async def _gated(
        self, gate: asyncio.Semaphore, row: StoredReminder, contact: Contact | None, report: SweepReport
    ) -> None:
        async with gate:
            await self._deliver(row, contact, report)

    async def _mark(self, ok_coro: Callable[[], bool], report: SweepReport) -> None:
        if not await asyncio.to_thread(ok_coro):
            report.lost_leases += 1

    async def _deliver(self, row: StoredReminder, contact: Contact | None, report: SweepReport) -> None:
        try:
            rule = self._rule(row)
            if rule is None:
                log.warning("reminder %d (%s): its rule is no longer in the pack", row.id, row.kind)
                await self._mark(
                    lambda: self.store.mark_reminder_failed(row.id, self.owner, row.attempts, None, "rule removed"),
                    report,
                )
                report.failed += 1
                return
            if row.state == "met_due":
                await self._update_card(row, rule, report)
            else:
                await self._send(row, rule, contact, report)
        except Exception as exc:  # one bad row must not stop the others; it is retried later
            error = type(exc).__name__
            log.error("reminder %d (%s) not delivered: %s", row.id, row.kind, error)
            retry = self.now() + timedelta(seconds=60)
            await self._mark(
                lambda: self.store.mark_reminder_failed(row.id, self.owner, row.attempts + 1, retry, error),
                report,
            )
            report.retried += 1

    def _rule(self, row: StoredReminder) -> Rule | None:
        area = self.areas.get(row.area)
        return area.rule(row.rule_id) if area else None

    async def _update_card(self, row: StoredReminder, rule: Rule, report: SweepReport) -> None:
        if not row.conversation or not row.activity_id:
            await self._mark(lambda: self.store.mark_card_updated(row.id, self.owner, self.now()), report)
            return
        card = reminder_met_card(row.reference, rule, row.due)
        result = await self.delivery.update(row.conversation, row.activity_id, card)
        if result.activity_id is not None:
            await self._mark(lambda: self.store.mark_card_updated(row.id, self.owner, self.now()), report)
            report.updated += 1
            return
        attempts = row.attempts + result.failures
        give_up = result.blocked or attempts >= self.delivery.failure_threshold
        retry = None if give_up else self._retry_at(attempts, result.retry_after)
        await self._mark(
            lambda: self.store.mark_reminder_failed(row.id, self.owner, attempts, retry, result.error), report
        )
        report.retried += 0 if give_up else 1

    async def _send(self, row: StoredReminder, rule: Rule, contact: Contact | None, report: SweepReport) -> None:
        card, subject, text = reminder_card(row.reference, rule, row.kind, row.due, row.audience)
        reason = "no conversation reference"
        attempts = row.attempts
        if contact is not None and contact.conversation:
            result = await self.delivery.send(contact.conversation, card)
            if result.activity_id is not None:
                conversation = contact.conversation
                activity_id = result.activity_id
                await self._mark(
                    lambda: self.store.mark_reminder_sent(row.id, self.owner, self.now(), activity_id, conversation),
                    report,
                )
                report.sent += 1
                return
            attempts += result.failures
            if result.blocked:
                reason = f"blocked in Teams ({result.error})"
                log.info("reminder %d (%s): %s; sending by email", row.id, row.kind, reason)
            elif attempts < self.delivery.failure_threshold:
                retry = self._retry_at(attempts, result.retry_after)
                await self._mark(
                    lambda: self.store.mark_reminder_failed(row.id, self.owner, attempts, retry, result.error), report
                )
                report.retried += 1
                return
            else:
                reason = f"{attempts} failed attempts in Teams (last {result.error})"
                await self.delivery.alert_admin(
                    "Reminder handed over to email",
                    f"Reminder {row.id} ({row.kind}, rule {row.rule_id}, case {row.reference}): {reason}.",
                    row.key,
                )
        if contact is None or not contact.email:
            await self.delivery.alert_admin(
                "Reminder undeliverable",
                f"Reminder {row.id} ({row.kind}, rule {row.rule_id}, case {row.reference}): {reason} and no email.",
                row.key,
            )
            await self._mark(
                lambda: self.store.mark_reminder_failed(row.id, self.owner, attempts, None, "undeliverable"), report
            )
            report.failed += 1
            return
        await self.delivery.email(contact.email, subject, text, row.key)
        await self._mark(
            lambda: self.store.mark_reminder_emailed(row.id, self.owner, self.now(), attempts, reason), report
        )
        report.emailed += 1

    def _retry_at(self, attempts: int, retry_after: float | None) -> datetime:
        wait = self.delivery.backoff(attempts, retry_after)
        return self.now() + timedelta(seconds=max(wait, 1.0))
