"""What one turn costs the database, counted (not timed) on each backend, and where its notice goes.

A dissent turn reads its case once and writes in one transaction; a status turn reads in one. The
bounds are the counts of bench/turn_counts.py with no slack for a second read of the case (five
statements), so reading it again, or splitting the turn in two transactions, fails here.

The chair's prompt the dissent queues is delivered after the turn: a kick from inside a turn starts
the delivery only once that turn's task is done, in a context of its own, and it touches the notices
queue only (the reminders and the lease release are the minute's sweep's).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.drawings import BotDrawings
from app.procedures import load_catalogue
from bench.turn_counts import NOW, Counted, seed, turn_counts
from bot.commands import parse
from bot.turns import Turns
from casework.clock import parse_time
from casework.service import Casework
from graph.outbox import FileOutbox
from scheduler.delivery import ReminderDelivery
from scheduler.sweep import Sweep
from store.sql import SqlStore
from tests.e2e.test_reminder_delivery import conversation_ref

REASON = "The threshold for a child protection plan is not met on the evidence given"
IN_THE_TURN: contextvars.ContextVar[str] = contextvars.ContextVar("in_the_turn", default="no")


def test_a_dissent_turn_reads_its_case_once_in_one_transaction(store: SqlStore) -> None:
    seed(store)
    counts = turn_counts(store)
    dissent, status = counts["dissent"], counts["status"]
    # 5 reads of the case, the person, the roles and people its reminders go to (4), the reminders (1);
    # the dissent, its event, its reminders, the notice (4); the audit append (4, 5 on PostgreSQL).
    assert len(dissent.statements) <= 20, "\n".join(dissent.statements)
    assert dissent.begins == 1 and dissent.commits == 1 and dissent.rollbacks == 0
    assert sum(s.startswith("SELECT conferences.") for s in dissent.statements) == 1
    # The case (5) and the viewer's roles in its area (1), read together, so that every step the viewer
    # can take has its button.
    assert len(status.statements) <= 6 and status.begins == 1 and status.writes == 0


class Sender:
    """Records each send with whether the turn had finished and what context the delivery ran in."""

    def __init__(self) -> None:
        self.sent: list[tuple[bool, str]] = []
        self.turn: asyncio.Task[Any] | None = None
        self.arrived = asyncio.Event()

    async def send(self, reference_json: str, card: dict[str, Any]) -> str:
        assert self.turn is not None
        self.sent.append((self.turn.done(), IN_THE_TURN.get()))
        self.arrived.set()
        return f"activity-{len(self.sent)}"

    async def update(self, reference_json: str, activity_id: str, card: dict[str, Any]) -> None:
        raise AssertionError("nothing is updated here")


def _dissent_queued(store: SqlStore) -> tuple[datetime, Mapping[str, Any], Casework]:
    """A professional's dissent, its chair's notice queued and the chair reachable in Teams."""
    seed(store)
    store.save_conversation_ref("chair", conversation_ref("http://127.0.0.1:9/", "chair"))
    now = parse_time(NOW)
    areas = load_catalogue().areas
    casework = Casework(store, areas, lambda: now)
    person = store.get_person("pro-1")
    assert person is not None
    Turns(casework, lambda: now).command(person, parse(f"dissent CPC-1 {REASON}"), None)
    return now, areas, casework


def test_a_kick_delivers_the_notice_after_the_turn_and_only_the_notices(store: SqlStore, tmp_path: Path) -> None:
    now, areas, casework = _dissent_queued(store)

    async def scenario() -> tuple[Sender, Counted]:
        sender = Sender()
        delivery = ReminderDelivery(sender, FileOutbox(tmp_path / "outbox"))
        sweep = Sweep(store, areas, delivery, lambda: now + timedelta(seconds=1), BotDrawings(casework))

        async def turn() -> None:
            IN_THE_TURN.set("yes")
            sweep.kick()
            # The reply: long enough for a delivery started inside the turn to reach the sender.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sender.arrived.wait(), 1.0)

        with Counted(store.engine) as counted:
            sender.turn = asyncio.create_task(turn())
            await sender.turn
            await asyncio.wait_for(sender.arrived.wait(), 30)
            assert sweep._kicker is not None
            await sweep._kicker
        return sender, counted

    sender, counted = asyncio.run(scenario())
    assert sender.sent == [(True, "no")]
    assert [n.state for n in store.notices_for("CPC-1")] == ["sent"]
    assert not [s for s in counted.statements if "reminders" in s], counted.statements
    assert not [s for s in counted.statements if "lease_until <" in s and s.startswith("UPDATE")]


class SlowSender(Sender):
    """A Teams send that takes ``seconds`` (a slow channel at shutdown)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.started = asyncio.Event()

    async def send(self, reference_json: str, card: dict[str, Any]) -> str:
        self.started.set()
        await asyncio.sleep(self.seconds)
        return await super().send(reference_json, card)


def _kicked_at_shutdown(store: SqlStore, tmp_path: Path, seconds: float, timeout: float) -> SlowSender:
    """A dissent's notice is being delivered by a kick when the server shuts down (Sweep.drain)."""
    now, areas, casework = _dissent_queued(store)

    async def scenario() -> SlowSender:
        sender = SlowSender(seconds)
        sender.turn = asyncio.current_task()
        delivery = ReminderDelivery(sender, FileOutbox(tmp_path / "outbox"))
        sweep = Sweep(store, areas, delivery, lambda: now + timedelta(seconds=1), BotDrawings(casework))
        sweep._kicked(asyncio.get_running_loop())
        await asyncio.wait_for(sender.started.wait(), 30)
        await sweep.drain(timeout)
        assert sweep._kicker is not None and sweep._kicker.done()
        return sender

    return asyncio.run(scenario())


def test_shutdown_lets_a_running_notice_delivery_finish(store: SqlStore, tmp_path: Path) -> None:
    sender = _kicked_at_shutdown(store, tmp_path, seconds=0.2, timeout=30)
    assert len(sender.sent) == 1
    assert [n.state for n in store.notices_for("CPC-1")] == ["sent"]


def test_shutdown_cancels_a_hung_delivery_and_leaves_the_notice_to_the_next_sweep(
    store: SqlStore, tmp_path: Path
) -> None:
    sender = _kicked_at_shutdown(store, tmp_path, seconds=60, timeout=0.2)
    assert sender.sent == []
    # Not marked sent, not lost: still queued (its lease lapses), so the next instance's sweep sends it.
    assert [n.state for n in store.notices_for("CPC-1")] != ["sent"]
    assert len(store.notices_for("CPC-1")) == 1
