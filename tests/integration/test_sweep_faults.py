"""The sweep under faults (ARCHITECTURE: Flows 4-5): every notice and reminder row is sent exactly once.

(a) PostgreSQL connections are terminated (``pg_terminate_backend``, from an admin connection) while a
    few hundred rows are being sent: by the sender itself on some sends, and by a thread at random
    moments of the run. Claims, reads, marks and lease extensions fail mid-transaction; further sweeps
    finish the work. No row is sent twice and none is lost.
(b) A slow channel against a short lease, with two sweeps (two owners, as two instances) on one
    database at once: a batch takes longer than the lease, so only the heartbeat that extends the
    leases of rows in flight keeps the other sweep from taking them again.
(c) The mark fails once after Teams accepted the card, before its write or after its commit (the
    reply lost): the mark is retried, the row ends up marked, and the card is not sent again.

The sender records what reached "Teams" by row key: the drawings put each row's key on its card.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, insert, make_url, select, text
from sqlalchemy.exc import OperationalError

from app.procedures import load_catalogue
from casework.ports import OutboundQueue
from casework.records import Notice, Person, StoredReminder
from casework.reminders import reminder_key
from casework.rules import Rule
from graph.outbox import FileOutbox
from scheduler.delivery import ReminderDelivery
from scheduler.sweep import Sweep, SweepReport
from store.rows import NOTICES, REMINDERS
from store.sql import SqlStore, open_store

KEY = "cpc_test_row_key"  # where the drawings put the row's key on the card
START = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)

Card = dict[str, Any]


# ---------------------------------------------------------------------------------------------- doubles


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class KeyedDrawings:
    """``scheduler.sweep.Drawings`` that reads the recipient from the store (as the bot's drawings
    read the case) and puts the row's key on the card, so the sender can count sends per row.
    ``inner`` (the bot's own drawings) draws the card when given."""

    def __init__(self, store: SqlStore, inner: Any = None) -> None:
        self.store = store
        self.inner = inner

    def _card(self, key: str, person_id: str, drawn: tuple[Card, str, str] | None) -> tuple[Card, str, str]:
        person = self.store.get_person(person_id)
        card, subject, body = drawn or ({"type": "AdaptiveCard", "body": []}, key, key)
        return {**card, KEY: key, "to": person.id if person else None}, subject, body

    def reminder(self, row: StoredReminder, rule: Rule) -> tuple[Card, str, str]:
        return self._card(row.key, row.person_id, self.inner.reminder(row, rule) if self.inner else None)

    def reminder_met(self, row: StoredReminder, rule: Rule) -> Card:
        return {KEY: row.key, "met": True}

    def notice(self, notice: Notice) -> tuple[Card, str, str]:
        return self._card(notice.key, notice.person_id, self.inner.notice(notice) if self.inner else None)


class RecordingSender:
    """``scheduler.delivery.Sender``: counts what reached Teams, by row key. ``delay`` makes it slow;
    ``on_send`` runs before the card is accepted (to break the database meanwhile); ``hang`` never answers."""

    def __init__(
        self, delay: float = 0.0, on_send: Callable[[int], object] | None = None, hang: bool = False, who: str = ""
    ) -> None:
        self.delay = delay
        self.on_send = on_send
        self.hang = hang
        self.who = who
        self.sent: Counter[str] = Counter()
        self.by: dict[str, list[str]] = {}
        self.waiting = 0
        self.activity: dict[str, str] = {}
        self._ids = itertools.count(1)

    async def send(self, reference_json: str, card: Card) -> str:
        n = next(self._ids)
        if self.hang:
            self.waiting += 1
            await asyncio.Event().wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.on_send is not None:
            self.on_send(n)
        key = card[KEY]
        self.sent[key] += 1
        self.by.setdefault(key, []).append(self.who)
        self.activity[key] = f"activity-{self.who}-{n}"
        return self.activity[key]

    async def update(self, reference_json: str, activity_id: str, card: Card) -> None:
        raise AssertionError("no card is updated in these tests")


def delivery(sender: RecordingSender, tmp_path: Path) -> ReminderDelivery:
    """The real delivery (limits, retries, email fallback), fast enough for hundreds of rows."""
    return ReminderDelivery(sender, FileOutbox(tmp_path / "outbox"), per_conversation=1000, global_rate=1000)


def make_sweep(
    store: OutboundQueue, sender: RecordingSender, tmp_path: Path, now: Callable[[], datetime], **options: Any
) -> Sweep:
    areas = load_catalogue().areas
    drawings = options.pop("drawings", None) or KeyedDrawings(cast(SqlStore, store))
    return Sweep(store, areas, delivery(sender, tmp_path), now, drawings, **options)


def conversation_ref(person: str) -> str:
    return json.dumps(
        {"conversation": {"id": f"a:{person}"}, "user": {"id": person}, "serviceUrl": "http://127.0.0.1:9/"}
    )


def seed(store: SqlStore, notices: int, reminders: int, now: datetime, people: int = 40) -> set[str]:
    """Due notice and reminder rows for ``people`` reachable people, in bulk; returns their keys."""
    for i in range(people):
        store.upsert_person(Person(f"p{i}", f"p{i}@example.org"))
        store.save_conversation_ref(f"p{i}", conversation_ref(f"p{i}"))
    notice_rows = [
        {
            "key": Notice("chair_prompt", f"p{i % people}", f"CPC-N{i}", i + 1).key,
            "kind": "chair_prompt",
            "person_id": f"p{i % people}",
            "reference": f"CPC-N{i}",
            "dissent_id": i + 1,
            "occasion": "",
            "state": "pending",
            "created_at": now - timedelta(seconds=1),
            "next_attempt_at": now - timedelta(seconds=1),
            "attempts": 0,
        }
        for i in range(notices)
    ]
    reminder_rows = []
    for i in range(reminders):
        person, reference, at = f"p{i % people}", f"CPC-R{i}", now - timedelta(minutes=10)
        reminder_rows.append(
            {
                "key": reminder_key(reference, "dissent-decision", person, at, "before-5"),
                "reference": reference,
                "area": "sussex",
                "process": "dissent",
                "rule_id": "dissent-decision",
                "kind": "before-5",
                "person_id": person,
                "audience": "responsible",
                "send_at": at,
                "due_at": now + timedelta(days=7),
                "state": "pending",
                "next_attempt_at": at,
                "attempts": 0,
            }
        )
    with store.engine.begin() as conn:
        if notice_rows:
            conn.execute(insert(NOTICES), notice_rows)
        if reminder_rows:
            conn.execute(insert(REMINDERS), reminder_rows)
    return {str(r["key"]) for r in [*notice_rows, *reminder_rows]}


def states(store: SqlStore) -> Counter[str]:
    """How many rows are in each state, notices and reminders together."""
    out: Counter[str] = Counter()
    with store.engine.connect() as conn:
        for table in (NOTICES, REMINDERS):
            for (state,) in conn.execute(select(table.c.state)):
                out[state] += 1
    return out


def duplicates(sent: Counter[str]) -> int:
    return sum(n - 1 for n in sent.values() if n > 1)


# ---------------------------------------------------------------------------------------------- (a)


class Terminator:
    """Terminates every connection of one application name, from an admin connection."""

    def __init__(self, admin: Engine, application_name: str) -> None:
        self.admin = admin
        self.name = application_name
        self.killed = 0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self.admin.connect() as conn:
            n = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            ).scalar_one()
        with self._lock:
            self.killed += int(n)
            self.calls += 1
        return int(n)


@pytest.mark.postgres
def test_connections_terminated_mid_sweep_lose_and_duplicate_nothing(
    postgres_schema_url: str, postgres_admin: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"cpc-sweep-faults-{random.randrange(10**9)}"
    url = make_url(postgres_schema_url).update_query_dict({"application_name": name})
    store = open_store(url.render_as_string(hide_password=False))
    clock = Clock(START)
    try:
        expected = seed(store, notices=250, reminders=250, now=clock())
        terminate = Terminator(postgres_admin, name)
        # The sender breaks the database on every 17th send, before the card is accepted: the marks of
        # that card and of the cards sent alongside it, the claims and reads in flight, all fail.
        sender = RecordingSender(on_send=lambda n: None if n % 17 else terminate())
        sweep = make_sweep(store, sender, tmp_path, clock, batch=40, lease_seconds=60, concurrency=8)
        stop = threading.Event()
        rng = random.Random(20270104)

        def at_random_moments() -> None:
            while not stop.wait(rng.uniform(0.02, 0.2)):
                terminate()

        errors = lost_leases = rounds = 0
        thread = threading.Thread(target=at_random_moments, daemon=True)
        thread.start()
        try:
            for rounds in range(1, 61):
                try:
                    lost_leases += asyncio.run(sweep.run()).lost_leases
                except Exception:
                    errors += 1  # the scheduler's job logs this and runs again at the next interval
                if rounds == 6:
                    stop.set()
                # Past the retry time (+60 s) and the lease (60 s) of anything left behind.
                clock.advance(90)
                if rounds > 6 and states(store) == Counter({"sent": len(expected)}):
                    break
        finally:
            stop.set()
            thread.join(10)
        retried = sum(1 for r in caplog.records if r.getMessage().startswith("marking a delivered row failed"))
        print(
            f"\nterminated {terminate.killed} connections in {terminate.calls} calls; {rounds} sweeps, "
            f"{errors} of them cut short; {retried} marks retried ({lost_leases} found already written); "
            f"sent {sum(sender.sent.values())} of {len(expected)}, duplicates {duplicates(sender.sent)}, "
            f"lost {len(expected - set(sender.sent))}"
        )
        assert terminate.killed > 0
        assert set(sender.sent) == expected  # none lost
        assert duplicates(sender.sent) == 0
        assert states(store) == Counter({"sent": len(expected)})
        asyncio.run(sweep.run())
        assert sum(sender.sent.values()) == len(expected)
    finally:
        store.close()


# ---------------------------------------------------------------------------------------------- (b)


def test_two_sweeps_on_a_slow_channel_with_a_short_lease_send_each_row_once(store: SqlStore, tmp_path: Path) -> None:
    expected = seed(store, notices=60, reminders=60, now=datetime.now(UTC), people=30)
    # Each batch of 20 takes 1 s at 0.1 s a card, two at a time: twice the 0.5 s lease.
    senders = [RecordingSender(delay=0.1, who=who) for who in ("a", "b")]
    sweeps = [
        make_sweep(
            store,
            s,
            tmp_path / s.who,
            lambda: datetime.now(UTC),
            batch=20,
            lease_seconds=0.5,
            concurrency=2,
            owner=s.who,
        )
        for s in senders
    ]

    async def both() -> list[SweepReport]:
        return list(await asyncio.gather(*(s.run() for s in sweeps)))

    reports = asyncio.run(both())
    sent = senders[0].sent + senders[1].sent
    print(
        f"\nsweep a sent {sum(senders[0].sent.values())}, sweep b {sum(senders[1].sent.values())}; "
        f"duplicates {duplicates(sent)}, lost {len(expected - set(sent))}; "
        f"leases lost {sum(r.lost_leases for r in reports)}"
    )
    assert all(sum(s.sent.values()) > 0 for s in senders)  # both sweeps took part
    assert set(sent) == expected
    assert duplicates(sent) == 0
    assert sum(r.lost_leases for r in reports) == 0
    assert states(store) == Counter({"sent": len(expected)})


# ---------------------------------------------------------------------------------------------- (c)


class FailingMarks:
    """The store, except that the first ``mark_*_sent`` of each queue fails once, ``before`` its write
    or ``after`` it committed (the connection dropped before the answer came back)."""

    def __init__(self, store: SqlStore, when: str) -> None:
        self.store = store
        self.when = when
        self.marks: Counter[str] = Counter()
        self.failed: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if name not in ("mark_notice_sent", "mark_reminder_sent"):
            return attr

        def mark(row_id: int, *args: Any) -> bool:
            with self._lock:  # marks run on worker threads, several at once
                self.marks[f"{name}:{row_id}"] += 1
                fail = not any(n == name for n, _ in self.failed)
                if fail:
                    self.failed.append((name, row_id))
            if fail and self.when == "before":
                raise OperationalError("UPDATE notices ...", {}, Exception("server closed the connection"))
            ok = bool(attr(row_id, *args))
            if fail:
                raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
            return ok

        return mark


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_mark_that_fails_after_the_send_is_retried_and_the_card_not_sent_again(
    store: SqlStore, tmp_path: Path, when: str
) -> None:
    clock = Clock(START)
    expected = seed(store, notices=3, reminders=3, now=clock(), people=3)
    flaky = FailingMarks(store, when)
    sender = RecordingSender(who="a")
    sweep = make_sweep(cast(OutboundQueue, flaky), sender, tmp_path, clock, lease_seconds=60, owner="a")
    report = asyncio.run(sweep.run())
    assert len(flaky.failed) == 2  # one notice and one reminder
    for name, row_id in flaky.failed:
        assert flaky.marks[f"{name}:{row_id}"] == 2  # the mark was tried again, not the send
    assert sender.sent == Counter(dict.fromkeys(expected, 1))
    # Marked, with the activity Teams gave (so a met deadline's card can be updated in place).
    with store.engine.connect() as conn:
        for table in (NOTICES, REMINDERS):
            for row in conn.execute(select(table.c.key, table.c.state, table.c.activity_id, table.c.lease_owner)):
                assert (row.state, row.activity_id, row.lease_owner) == ("sent", sender.activity[row.key], None)
    # "after": the first write had committed, so the retry finds the row no longer held, and says so.
    assert report.lost_leases == (2 if when == "after" else 0)
    # Long after every lease and retry time, another sweep (another owner) sends nothing again.
    clock.advance(3600)
    other = RecordingSender(who="b")
    again = asyncio.run(make_sweep(store, other, tmp_path, clock, owner="b").run())
    assert again.claimed == 0 and sum(other.sent.values()) == 0
