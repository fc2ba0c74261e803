"""``cpc serve`` SIGKILLed while professionals send it dissents, on SQLite and PostgreSQL.

One hundred dissents (twenty professionals, five conferences) are sent from four threads to a real
``cpc serve`` process that is SIGKILLed at random moments and started again on the same database each
time. Afterwards every dissent is whole (its row, its ``dissent_raised`` event, its ``dissent.raised``
audit entry and the chair's prompt in the outbox) or absent (none of them); every dissent whose request
was answered is whole; ``cpc audit verify`` passes; and once the last process has swept, the chair's
prompt for every whole dissent has reached the fake Teams channel exactly once (counted by the dissent
id in the card's "Record" action).

One exception is allowed and counted, because no outbox can avoid it: a process killed after Teams
accepted a card and before it marked the row (at-least-once; README). Such a row is still leased to the
dead process, unmarked, when it dies; only a prompt whose row was in that state may arrive twice.

And one deterministic case: the process is killed after the commit and before the send (the channel
holds the chair's POST unanswered, so the card is claimed but not delivered); restarted, the chair's
prompt arrives exactly once.
"""

from __future__ import annotations

import asyncio
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text

from casework.records import Attendee, CaseEvent, Conference, Person
from store.sql import SqlStore, open_store
from tests.e2e import fakes
from tests.e2e.processes import Serve, cpc, database, post, wait_until
from tests.e2e.test_bot_flows import card_text, find_action
from tests.e2e.test_reminder_delivery import conversation_ref

PROFESSIONALS = [f"pro{i}" for i in range(20)]
CONFERENCES = [f"CPC-70{i}" for i in range(1, 6)]
KILLS = 5
SENDERS = 4
REASON = "Threshold for a plan is not met on the evidence given"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def prepare(store: SqlStore, channel: fakes.FakeTeamsChannel) -> None:
    """A chair and twenty professionals who have all talked to the bot; five conferences held an hour
    ago, each attended by all twenty (their dissent windows are open)."""
    for pid in ["chair", *PROFESSIONALS]:
        store.upsert_person(Person(pid, f"{pid}@example.org", pid, "police" if pid != "chair" else "social_care"))
        store.save_conversation_ref(pid, conversation_ref(channel.service_url, pid))
    held = datetime.now(UTC) - timedelta(hours=1)
    attendees = tuple(Attendee(p, "police") for p in PROFESSIONALS)
    for ref in CONFERENCES:
        store.add_conference(Conference(ref, "sussex", "initial", held_at=held, chair_id="chair", attendees=attendees))
        store.record_event(CaseEvent(ref, "conference_held", held, "test"))


def dissent(channel: fakes.FakeTeamsChannel, pid: str, reference: str) -> dict[str, Any]:
    return fakes.message(f"dissent {reference} {REASON}", f"a:{pid}", f"29:{pid}", pid, channel.service_url)


def prompts(channel: fakes.FakeTeamsChannel) -> Counter[int]:
    """The chair's prompts that reached Teams, by the dissent id in their "Record" action."""
    out: Counter[int] = Counter()
    for r in channel.activities():
        if r.conversation_id != "a:chair":
            continue
        for a in r.attachments:
            card = a.get("content") or {}
            if "dissent.record" in card_text(card):
                out[int(find_action(card, "dissent.record")["dissent"])] += 1
    return out


def pending_notices(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM notices WHERE state = 'pending'")).scalar_one())


def held_by(store: SqlStore, pid: int) -> set[int]:
    """Dissent ids of the chair's prompts a dead process still held, unmarked, when it died."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT dissent_id FROM notices WHERE state = 'pending' AND lease_owner LIKE :owner"),
            {"owner": f"%:{pid}:%"},
        ).all()
    return {int(r[0]) for r in rows}


@dataclass
class Parts:
    """What the store holds of one professional's dissent about one conference."""

    dissents: list[int] = field(default_factory=list)
    events: int = 0
    audits: list[int] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return (
            len(self.dissents) == 1
            and self.events == 1
            and self.audits == self.dissents
            and self.notices == self.dissents
        )

    @property
    def absent(self) -> bool:
        return not (self.dissents or self.events or self.audits or self.notices)


def parts(store: SqlStore) -> dict[tuple[str, str], Parts]:
    out = {(p, r): Parts() for p in PROFESSIONALS for r in CONFERENCES}
    for ref in CONFERENCES:
        for d in store.dissents_for(ref):
            assert d.id is not None
            out[(d.person_id, ref)].dissents.append(d.id)
        for e in store.events_for(ref):
            if e.name == "dissent_raised":
                out[(e.recorded_by or "", ref)].events += 1
        for n in store.notices_for(ref):
            if n.kind == "chair_prompt":
                assert n.dissent_id is not None
                owner = next(k for k, v in out.items() if k[1] == ref and n.dissent_id in v.dissents)
                out[owner].notices.append(n.dissent_id)
    for entry in store.audit_entries():
        if entry.action == "dissent.raised":
            out[(entry.actor, entry.reference)].audits.append(int(entry.detail["dissent"]))
    return out


def audit_verifies(url: str, tmp: Path) -> None:
    done = cpc(url, tmp, "audit", "verify")
    assert done.returncode == 0 and "audit log intact" in done.stdout, done.stdout + done.stderr


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as found:
        yield found


def test_dissents_sent_while_the_server_is_killed_are_whole_or_absent_and_prompted_once(
    url: str, tmp_path: Path
) -> None:
    rng = random.Random(20261217)
    store = open_store(url)
    with fakes.FakeTeamsChannel() as channel:
        server: Serve | None = None
        try:
            prepare(store, channel)
            server = Serve(url, tmp_path, "kill")
            server.wait_healthy()
            jobs: queue.Queue[tuple[str, str]] = queue.Queue()
            order = [(p, r) for r in CONFERENCES for p in PROFESSIONALS]
            rng.shuffle(order)
            for job in order:
                jobs.put(job)
            up = threading.Event()
            up.set()
            taken = [0]
            answered: set[tuple[str, str]] = set()
            lock = threading.Lock()
            port = server.port

            def send() -> None:
                while True:
                    try:
                        pid, ref = jobs.get_nowait()
                    except queue.Empty:
                        return
                    assert up.wait(120), "the server did not come back"
                    with lock:
                        taken[0] += 1
                    try:
                        r = post(port, dissent(channel, pid, ref), timeout=30)
                    except OSError:
                        continue  # killed under it (or refused while down): whole or absent, not retried now
                    if r.status in (200, 201):
                        with lock:
                            answered.add((pid, ref))

            # Per dissent: how many of its prompts a killed process had sent (Teams accepted them)
            # without marking the row: each must come again, once.
            unmarked: Counter[int] = Counter()
            held = 0
            senders = [threading.Thread(target=send) for _ in range(SENDERS)]
            for t in senders:
                t.start()
            kills = 0
            for at in sorted(rng.sample(range(5, len(order) - 5), KILLS)):
                deadline = time.monotonic() + 120
                while taken[0] < at and time.monotonic() < deadline and any(t.is_alive() for t in senders):
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, 0.3))
                up.clear()
                dead = server.kill()
                kills += 1
                delivered = prompts(channel)
                for i in held_by(store, dead):
                    held += 1
                    if delivered[i] > unmarked[i]:  # this process's attempt reached Teams
                        unmarked[i] += 1
                server.start()
                server.wait_healthy()
                up.set()
            for t in senders:
                t.join(180)
            assert not any(t.is_alive() for t in senders)

            # The last process sweeps what the dead ones left (their leases run out after 2 s).
            wait_until(lambda: pending_notices(store) == 0, 90, "the outbox to empty")
            found = parts(store)
            broken = {k: v for k, v in found.items() if not (v.whole or v.absent)}
            assert broken == {}
            whole = {k for k, v in found.items() if v.whole}
            assert answered <= whole  # an answered dissent is never lost
            audit_verifies(url, tmp_path)
            got = prompts(channel)
            ids = {found[k].dissents[0] for k in whole}
            assert set(got) == ids
            print(
                f"\n{kills} kills; {len(order)} dissents sent, {len(answered)} answered, {len(whole)} whole, "
                f"{len(order) - len(whole)} absent, 0 partial; prompts delivered {sum(got.values())}, "
                f"duplicates {sum(got.values()) - len(got)}, all of them sent by a process killed before it "
                f"marked the row ({sum(unmarked.values())}; {held} rows were held by a killed process)"
            )
            assert got == {i: 1 + unmarked[i] for i in ids}

            # Sent again (as Teams retries what was not acknowledged): every one is whole, prompted once.
            for pid, ref in order:
                if (pid, ref) not in answered:
                    assert post(server.port, dissent(channel, pid, ref)).status in (200, 201)
            wait_until(lambda: pending_notices(store) == 0, 90, "the outbox to empty")
            found = parts(store)
            assert all(v.whole for v in found.values())
            got = prompts(channel)
            assert set(got) == {v.dissents[0] for v in found.values()}
            assert got == {i: 1 + unmarked[i] for i in got}  # nothing more was sent
            audit_verifies(url, tmp_path)
        finally:
            if server is not None:
                server.stop()
            store.close()


class HoldingChannel(fakes.FakeTeamsChannel):
    """The fake channel, except that while ``holding`` it never answers a POST into ``conversation``:
    the card is neither accepted nor refused (a hung connection), and it is not recorded."""

    def __init__(self, conversation: str) -> None:
        super().__init__()
        self.conversation = conversation
        self.holding = True
        self.held = 0
        self._release: asyncio.Event | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        if self.holding and request.method == "POST" and f"/{self.conversation}/" in request.rel_url.path:
            self.held += 1
            self._release = self._release or asyncio.Event()
            await self._release.wait()
            return web.Response(status=503)  # its sender is long dead: nothing to record
        return await super()._handle(request)

    def release(self) -> None:
        self.holding = False
        if self._release is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._release.set)


@pytest.mark.parametrize("backend", BACKENDS)
def test_killed_after_the_commit_and_before_the_send_the_prompt_arrives_once(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as db, HoldingChannel("a:chair") as channel:
        store = open_store(db)
        server: Serve | None = None
        try:
            prepare(store, channel)
            server = Serve(db, tmp_path, "hold")
            server.wait_healthy()
            r = post(server.port, dissent(channel, "pro0", "CPC-701"))
            assert r.status in (200, 201)
            # The dissent is committed and its reply sent; the sweep woken by the turn is sending the
            # chair's prompt, and the channel does not answer.
            wait_until(lambda: channel.held >= 1, 30, "the chair's prompt to be posted")
            (notice,) = store.notices_for("CPC-701")
            assert notice.state == "pending" and f":{server.proc.pid}:" in (notice.lease_owner or "")
            dead = server.kill()
            channel.release()
            assert held_by(store, dead) == {notice.dissent_id}
            assert prompts(channel) == Counter()
            server.start()
            server.wait_healthy()
            wait_until(lambda: pending_notices(store) == 0, 60, "the prompt to be sent again")
            (sent,) = store.notices_for("CPC-701")
            assert sent.state == "sent" and sent.channel == "teams"
            assert prompts(channel) == {notice.dissent_id: 1}
            assert parts(store)[("pro0", "CPC-701")].whole
            audit_verifies(db, tmp_path)
        finally:
            if server is not None:
                server.stop()
            store.close()
