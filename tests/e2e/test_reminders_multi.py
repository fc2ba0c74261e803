"""Three real ``cpc serve`` processes, one PostgreSQL database, one fake Teams channel.

Run 1: 5,000 due reminders are delivered exactly once each. Run 2: 5,000 more, and one process is
killed with SIGKILL in the middle of its sweep: none is lost (its leased rows are reclaimed by the
others once the lease expires) and duplicates are reported; they can only be rows the killed process
held when it died (sent but not yet marked), so there are at most that many.

Each reminder is identified on the channel by its conversation (one per person), its case reference
and its card's heading (one per kind), so the count is of what Teams actually received.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from casework.records import Person
from casework.reminders import reminder_key
from store.rows import REMINDERS
from store.sql import SqlStore, open_store
from tests.e2e import fakes
from tests.e2e.test_reminder_delivery import conversation_ref

pytestmark = pytest.mark.postgres

PEOPLE = 1000
KINDS = {  # kind -> the heading its card starts with
    "before-5": "Due in 5 working days",
    "before-2": "Due in 2 working days",
    "before-1": "Due in 1 working day",
    "due": "Due today",
    "overdue-1": "Overdue",
}
LEASE_SECONDS = 10
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[str]:
    """A fresh schema on the test server; the URL makes every connection use it."""
    from tests.e2e.processes import database as fresh  # processes imports this module's helpers

    with fresh("postgres", tmp_path) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Instance:
    def __init__(self, url: str, tmp: Path, n: int) -> None:
        self.port = free_port()
        self.log = tmp / f"serve-{n}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CPC_")}
        env.update(
            {
                "CPC_DATABASE_URL": url,
                "CPC_OUTBOX_DIR": str(tmp / "outbox"),
                "CPC_SWEEP_INTERVAL_SECONDS": "1",
                "CPC_REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
                "CPC_REMINDER_BATCH": "50",
                "CPC_REMINDER_RATE_GLOBAL": "500",
                "PYTHONPATH": str(ROOT),
            }
        )
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
                cwd=tmp,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"cpc serve exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"cpc serve did not answer: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def seed(store: SqlStore, run: str, now: datetime) -> set[tuple[str, str, str]]:
    """5 due reminders for each of PEOPLE people (one case each), in one bulk insert; returns what
    the channel should receive: (conversation, reference, heading)."""
    rows, expected = [], set()
    for i in range(PEOPLE):
        person, reference = f"p{i}", f"CPC-{run}-{i}"
        for n, (kind, heading) in enumerate(KINDS.items()):
            at = now - timedelta(minutes=10 + n)
            rows.append(
                {
                    "key": reminder_key(reference, "dissent-decision", person, at, kind),
                    "reference": reference,
                    "area": "sussex",
                    "process": "dissent",
                    "rule_id": "dissent-decision",
                    "kind": kind,
                    "person_id": person,
                    "audience": "responsible",
                    "send_at": at,
                    "due_at": now + timedelta(days=1),
                    "state": "pending",
                    "next_attempt_at": at,
                    "attempts": 0,
                }
            )
            expected.add((f"a:{person}", reference, heading))
    with store.engine.begin() as conn:
        conn.execute(insert(REMINDERS), rows)
    return expected


def received(channel: fakes.FakeTeamsChannel, run: str) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    for r in channel.activities():
        if not r.attachments or r.conversation_id is None:
            continue
        card = r.attachments[0]["content"]
        facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
        reference = facts["Case"].replace("\\", "")
        if reference.startswith(f"CPC-{run}-"):
            heading = card["body"][0]["text"].split(":")[0].replace("\\", "")
            out[(r.conversation_id, reference, heading)] += 1
    return out


def settled(store: SqlStore, run: str) -> int:
    """Rows of this run not yet delivered."""
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM reminders WHERE reference LIKE :p AND state <> 'sent'"),
                {"p": f"CPC-{run}-%"},
            ).scalar_one()
        )


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_instances_deliver_each_reminder_once_and_lose_none_when_one_is_killed(
    database: str, tmp_path: Path
) -> None:
    store = open_store(database)  # migrated once here; the instances find it at the head revision
    instances: list[Instance] = []
    with fakes.FakeTeamsChannel() as channel:
        try:
            for i in range(PEOPLE):
                store.upsert_person(Person(f"p{i}", f"p{i}@example.org"))
                store.save_conversation_ref(f"p{i}", conversation_ref(channel.service_url, f"p{i}"))
            instances = [Instance(database, tmp_path, n) for n in range(3)]
            for inst in instances:
                inst.wait_healthy()

            # Run 1: no crash. Every reminder exactly once.
            expected = seed(store, "A", datetime.now(UTC))
            wait_until(lambda: settled(store, "A") == 0, 120, "run A to be delivered")
            got = received(channel, "A")
            assert set(got) == expected
            assert sum(got.values()) == len(expected) == 5000
            assert [k for k, n in got.items() if n > 1] == []

            # Run 2: SIGKILL one instance in the middle of its sweep.
            victim = instances[0]
            expected = seed(store, "B", datetime.now(UTC))
            wait_until(lambda: sum(received(channel, "B").values()) >= 1000, 120, "run B to start")
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait(10)
            with store.engine.connect() as conn:
                in_flight = int(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM reminders WHERE reference LIKE 'CPC-B-%' "
                            "AND state = 'pending' AND lease_owner LIKE :owner"
                        ),
                        {"owner": f"%:{victim.proc.pid}:%"},
                    ).scalar_one()
                )
            wait_until(lambda: settled(store, "B") == 0, 120, "run B to be delivered after the kill")
            got = received(channel, "B")
            duplicates = sum(n - 1 for n in got.values() if n > 1)
            print(
                f"\nrun B: {len(expected)} reminders, {in_flight} held by the killed instance, {duplicates} duplicates"
            )
            assert set(got) == expected  # none lost
            assert duplicates <= in_flight
        finally:
            for inst in instances:
                inst.stop()
            store.close()
