"""Delivering one outgoing row, reminder or notice alike: Teams first, then email, never dropped.

Both queues go through :func:`deliver_one`, so a notice gets exactly a reminder's rate limits,
retries with backoff, email fallback and admin alert (issue 9 item 1; scheduler/delivery.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from casework.errors import CaseworkError
from casework.records import Contact

if TYPE_CHECKING:
    from scheduler.sweep import Sweep, SweepReport

log = logging.getLogger("cpc.reminders")

Card = dict[str, Any]


@dataclass(frozen=True)
class Outgoing:
    """One claimed row, with how to draw it and how to mark each outcome in its own queue."""

    what: str  # "reminder" or "notice", for logs and alerts
    row_id: int
    key: str
    kind: str
    reference: str
    person_id: str
    attempts: int
    draw: Callable[[], tuple[Card, str, str]]
    # For a sent reminder whose deadline was met: (conversation, activity id, draw the "met" card).
    update: tuple[str | None, str | None, Callable[[], Card]] | None
    sent: Callable[[datetime, str, str], bool]
    emailed: Callable[[datetime, int, str], bool]
    failed: Callable[[int, datetime | None, str], bool]
    updated: Callable[[datetime], bool] | None
    detail: str


async def deliver_one(sweep: Sweep, item: Outgoing, contact: Contact | None, report: SweepReport) -> None:
    """Deliver and mark one row; one bad row never stops the others (it is retried a minute later)."""
    try:
        if item.update is not None:
            await _update_card(sweep, item, report)
            return
        try:
            card, subject, text = await _draw(item)
        except (CaseworkError, LookupError) as exc:
            log.warning("%s %d (%s) cannot be drawn: %s", item.what, item.row_id, item.kind, type(exc).__name__)
            await sweep.mark(lambda: item.failed(item.attempts, None, "cannot be drawn"), report)
            report.failed += 1
            return
        await _send(sweep, item, contact, card, subject, text, report)
    except Exception as exc:
        error = type(exc).__name__
        log.error("%s %d (%s) not delivered: %s", item.what, item.row_id, item.kind, error)
        retry = sweep.now() + timedelta(seconds=60)
        await sweep.mark(lambda: item.failed(item.attempts + 1, retry, error), report)
        report.retried += 1


async def _draw(item: Outgoing) -> tuple[Card, str, str]:
    """Drawing reads the case (the store): off the event loop."""
    return await asyncio.to_thread(item.draw)


async def _update_card(sweep: Sweep, item: Outgoing, report: SweepReport) -> None:
    assert item.update is not None and item.updated is not None
    conversation, activity_id, draw_met = item.update
    updated = item.updated
    if not conversation or not activity_id:
        await sweep.mark(lambda: updated(sweep.now()), report)
        return
    result = await sweep.delivery.update(conversation, activity_id, draw_met())
    if result.activity_id is not None:
        await sweep.mark(lambda: updated(sweep.now()), report)
        report.updated += 1
        return
    attempts = item.attempts + result.failures
    give_up = result.blocked or attempts >= sweep.delivery.failure_threshold
    retry = None if give_up else _retry_at(sweep, attempts, result.retry_after)
    await sweep.mark(lambda: item.failed(attempts, retry, result.error), report)
    report.retried += 0 if give_up else 1


async def _send(
    sweep: Sweep, item: Outgoing, contact: Contact | None, card: Card, subject: str, text: str, report: SweepReport
) -> None:
    delivery = sweep.delivery
    reason = "no conversation reference"
    attempts = item.attempts
    label = f"{item.what.capitalize()} {item.row_id} ({item.kind}, {item.detail}, case {item.reference})"
    if contact is not None and contact.conversation:
        conversation = contact.conversation
        result = await delivery.send(conversation, card)
        if result.activity_id is not None:
            activity_id = result.activity_id
            await sweep.mark(lambda: item.sent(sweep.now(), activity_id, conversation), report)
            report.sent += 1
            return
        attempts += result.failures
        if result.blocked:
            reason = f"blocked in Teams ({result.error})"
            log.info("%s %d (%s): %s; sending by email", item.what, item.row_id, item.kind, reason)
        elif attempts < delivery.failure_threshold:
            retry = _retry_at(sweep, attempts, result.retry_after)
            await sweep.mark(lambda: item.failed(attempts, retry, result.error), report)
            report.retried += 1
            return
        else:
            reason = f"{attempts} failed attempts in Teams (last {result.error})"
            await delivery.alert_admin(
                f"{item.what.capitalize()} handed over to email", f"{label}: {reason}.", item.key
            )
    if contact is None or not contact.email:
        await delivery.alert_admin(
            f"{item.what.capitalize()} undeliverable", f"{label}: {reason} and no email.", item.key
        )
        await sweep.mark(lambda: item.failed(attempts, None, "undeliverable"), report)
        report.failed += 1
        return
    await delivery.email(contact.email, subject, text, item.key)
    await sweep.mark(lambda: item.emailed(sweep.now(), attempts, reason), report)
    report.emailed += 1


def _retry_at(sweep: Sweep, attempts: int, retry_after: float | None) -> datetime:
    wait = sweep.delivery.backoff(attempts, retry_after)
    return sweep.now() + timedelta(seconds=max(wait, 1.0))
