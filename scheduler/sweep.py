"""The sweep: claim due reminders and notices, deliver them, mark them (ARCHITECTURE: Flows 4-5).

The APScheduler job holds no state: every reminder and every notice is a row. A sweep claims due
rows atomically with a per-row lease (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite one writer),
delivers each (a proactive card, else email) and marks it. While a batch is being sent a heartbeat
extends the leases of the rows still in flight, so a slow batch never lets another instance take
them; only a dead or stalled instance's rows expire and go again. When the mark fails after Teams
accepted the card (the database dropped the connection), the mark is retried, not the send.

Cards are drawn by the composition root's :class:`Drawings` (the bot's views), so this adapter
imports no other adapter. Database calls run on worker threads (``asyncio.to_thread``) so the event
loop keeps answering Teams while a sweep runs. Logs name row ids, kinds and statuses, never a person
or an address.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from casework.packs import Area
from casework.ports import OutboundQueue
from casework.records import Claimed, Contact, Notice, StoredNotice, StoredReminder
from casework.rules import Rule
from scheduler.delivery import ReminderDelivery
from scheduler.outgoing import Outgoing, deliver_one

log = logging.getLogger("cpc.reminders")

Row = TypeVar("Row", StoredReminder, StoredNotice)

Card = dict[str, Any]


class Drawings(Protocol):
    """Draws what the sweep sends: the bot's views, passed in by the composition root."""

    def reminder(self, row: StoredReminder, rule: Rule) -> tuple[Card, str, str]: ...
    def reminder_met(self, row: StoredReminder, rule: Rule) -> Card: ...
    def notice(self, notice: Notice) -> tuple[Card, str, str]: ...


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
    notices: int = 0


@dataclass
class Sweep:
    store: OutboundQueue
    areas: Mapping[str, Area]
    delivery: ReminderDelivery
    now: Callable[[], datetime]
    drawings: Drawings
    batch: int = 100
    lease_seconds: float = 120.0
    concurrency: int = 16
    owner: str = field(default_factory=instance_id)
    max_batches: int = 1000
    mark_attempts: int = 8
    _running: asyncio.Lock | None = field(default=None, repr=False)
    _kicker: asyncio.Task[None] | None = field(default=None, repr=False)
    _kick_pending: bool = field(default=False, repr=False)
    _notices_lock: asyncio.Lock | None = field(default=None, repr=False)

    # Sweeps finished since start (the scheduler runs one at start; a test waits for it).
    completed: int = field(default=0, init=False)

    async def run(self) -> SweepReport:
        """One sweep: notices first (they answer something that just happened), then reminders."""
        if self._running is None:
            self._running = asyncio.Lock()
        async with self._running:
            report = SweepReport()
            try:
                await self._notices(report)
                await self._reminders(report)
            finally:
                self.completed += 1
        if report.claimed:
            log.info(
                "sweep: %d claimed (%d notices), %d sent, %d emailed, %d updated, %d to retry, %d failed, "
                "%d leases lost",
                report.claimed,
                report.notices,
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
            log.error("sweep failed: %s", type(exc).__name__)

    def kick(self) -> None:
        """Deliver queued notices once the turn that queued them has answered (the handler calls this
        after a turn committed some; the rows are in the store, so nothing depends on this call).

        Why after the turn: delivery reads the case, draws cards and waits for the channel's limits;
        started inside the turn it competed with the reply for the worker threads and the database.
        So the delivery starts when the calling task (the request) is done, in a context of its own
        (nothing of the turn's context, such as its call time limit, leaks into it). Many kicks make
        one delivery that runs again while more were asked for; the minute's sweep is the backstop
        for a kick lost with its process.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        turn = asyncio.current_task()
        if turn is None or turn.done():
            self._kicked(loop)
        else:
            turn.add_done_callback(lambda _task: self._kicked(loop))

    def _kicked(self, loop: asyncio.AbstractEventLoop) -> None:
        self._kick_pending = True
        if self._kicker is not None and not self._kicker.done():
            return  # the running delivery goes round again once it finishes: many kicks, one more pass
        self._kicker = loop.create_task(self._kicked_deliveries(), context=contextvars.Context())

    async def drain(self, timeout: float = 10.0) -> None:
        """At shutdown: let a kicked delivery that is running finish (its notices are claimed, under
        lease), for at most ``timeout`` seconds; then it is cancelled, and its leases lapse, so the next
        instance's sweep sends them. Without this the loop closes on it half done ("Task was destroyed
        but it is pending") and a card may be posted without being marked sent."""
        kicker = self._kicker
        if kicker is None or kicker.done():
            return
        self._kick_pending = False
        try:
            await asyncio.wait_for(asyncio.shield(kicker), timeout)
        except TimeoutError:
            kicker.cancel()
            await asyncio.wait({kicker}, timeout=2.0)  # let the cancellation unwind its sends
            log.warning("notice delivery still running at shutdown: left to the next sweep")
        except Exception as exc:  # logged by the delivery itself; shutdown goes on
            log.info("notice delivery at shutdown ended with %s", type(exc).__name__)

    async def _kicked_deliveries(self) -> None:
        while self._kick_pending:
            self._kick_pending = False
            try:
                await self.deliver_notices()
            except Exception as exc:  # the next kick or the minute's sweep tries again
                log.error("notice delivery failed: %s", type(exc).__name__)

    async def deliver_notices(self) -> SweepReport:
        """Only the notices queue: what a kick runs."""
        report = SweepReport()
        await self._notices(report)
        if report.claimed:
            log.info(
                "notices: %d claimed, %d sent, %d emailed, %d to retry, %d failed",
                report.claimed,
                report.sent,
                report.emailed,
                report.retried,
                report.failed,
            )
        return report

    # ------------------------------------------------------------------ the two queues

    async def _reminders(self, report: SweepReport) -> None:
        s = self.store
        await self._drain("reminders", s.claim_reminders, self._reminder_item, s.extend_reminder_leases, report)

    async def _notices(self, report: SweepReport) -> None:
        """One drain of the notices at a time in this instance (the sweep's or a kick's): two would only
        share the same rate limit and contend for the same rows."""
        if self._notices_lock is None:
            self._notices_lock = asyncio.Lock()
        async with self._notices_lock:
            s = self.store
            report.notices += await self._drain(
                "notices", s.claim_notices, self._notice_item, s.extend_notice_leases, report
            )

    async def _drain(
        self,
        what: str,
        claim: Callable[[datetime, str, int, datetime], Claimed[Row]],
        item_of: Callable[[Row], Outgoing],
        extend: Callable[[Sequence[int], str, datetime], int],
        report: SweepReport,
    ) -> int:
        """Claim and deliver batches of one queue until nothing is due (or ``max_batches``). Each claim
        brings its rows' contacts, and takes over rows whose holder's lease ran out (logged)."""
        claimed = 0
        for _ in range(self.max_batches):
            now = self.now()
            got = await asyncio.to_thread(
                claim, now, self.owner, self.batch, now + timedelta(seconds=self.lease_seconds)
            )
            rows = got.rows
            if not rows:
                break
            if got.reclaimed:
                report.reclaimed += got.reclaimed
                log.info("reclaimed %d %s whose lease had expired", got.reclaimed, what)
            claimed += len(rows)
            report.claimed += len(rows)
            await self._batch([item_of(r) for r in rows], got.contacts, extend, report)
            if len(rows) < self.batch:
                break
        return claimed

    async def _batch(
        self,
        items: Sequence[Outgoing],
        contacts: Mapping[str, Contact],
        extend: Callable[[Sequence[int], str, datetime], int],
        report: SweepReport,
    ) -> None:
        """Send a batch, extending the leases of the rows still in flight until each is marked."""
        in_flight = {item.row_id for item in items}
        heartbeat = asyncio.create_task(self._heartbeat(in_flight, extend))
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: Outgoing) -> None:
            async with gate:
                try:
                    await deliver_one(self, item, contacts.get(item.person_id), report)
                finally:
                    in_flight.discard(item.row_id)

        try:
            await asyncio.gather(*(one(i) for i in items))
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)  # let it finish being cancelled

    async def _heartbeat(self, in_flight: set[int], extend: Callable[[Sequence[int], str, datetime], int]) -> None:
        """Every third of a lease, push the leases of the rows still being sent a whole lease ahead."""
        period = max(self.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(period)
            ids = sorted(in_flight)
            if not ids:
                continue
            try:
                await asyncio.to_thread(extend, ids, self.owner, self.now() + timedelta(seconds=self.lease_seconds))
            except Exception as exc:  # the next beat tries again; the lease still has two thirds left
                log.warning("could not extend leases: %s", type(exc).__name__)

    async def mark(self, call: Callable[[], bool], report: SweepReport) -> None:
        """Record the outcome, retrying the write (never the send) if the database fails meanwhile."""
        for attempt in range(self.mark_attempts):
            try:
                ok = await asyncio.to_thread(call)
            except Exception as exc:
                log.warning("marking a delivered row failed (%s); retrying the mark", type(exc).__name__)
                await asyncio.sleep(min(0.05 * (2**attempt), 5.0))
                continue
            if not ok:
                report.lost_leases += 1
            return
        # Given up: the row stays leased, its lease runs out and it is sent again (README: at-least-once).
        log.error("could not mark a delivered row after %d attempts", self.mark_attempts)

    # ------------------------------------------------------------------ rows into outgoing items

    def _rule(self, row: StoredReminder) -> Rule | None:
        area = self.areas.get(row.area)
        return area.rule(row.rule_id) if area else None

    def _reminder_item(self, row: StoredReminder) -> Outgoing:
        s, owner = self.store, self.owner
        rule = self._rule(row)

        def draw() -> tuple[Card, str, str]:
            if rule is None:
                raise LookupError("its rule is no longer in the pack")
            return self.drawings.reminder(row, rule)

        def draw_met() -> Card:
            assert rule is not None
            return self.drawings.reminder_met(row, rule)

        return Outgoing(
            what="reminder",
            row_id=row.id,
            key=row.key,
            kind=row.kind,
            reference=row.reference,
            person_id=row.person_id,
            attempts=row.attempts,
            draw=draw,
            update=(row.conversation, row.activity_id, draw_met) if row.state == "met_due" else None,
            sent=lambda at, activity, conv: s.mark_reminder_sent(row.id, owner, at, activity, conv),
            emailed=lambda at, attempts, reason: s.mark_reminder_emailed(row.id, owner, at, attempts, reason),
            failed=lambda attempts, retry, error: s.mark_reminder_failed(row.id, owner, attempts, retry, error),
            updated=lambda at: s.mark_card_updated(row.id, owner, at),
            detail=f"rule {row.rule_id}",
        )

    def _notice_item(self, row: StoredNotice) -> Outgoing:
        s, owner = self.store, self.owner
        return Outgoing(
            what="notice",
            row_id=row.id,
            key=row.key,
            kind=row.kind,
            reference=row.reference,
            person_id=row.person_id,
            attempts=row.attempts,
            draw=lambda: self.drawings.notice(row.notice),
            update=None,
            sent=lambda at, activity, conv: s.mark_notice_sent(row.id, owner, at, activity, conv),
            emailed=lambda at, attempts, reason: s.mark_notice_emailed(row.id, owner, at, attempts, reason),
            failed=lambda attempts, retry, error: s.mark_notice_failed(row.id, owner, attempts, retry, error),
            updated=None,
            detail="notice",
        )
