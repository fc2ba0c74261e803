"""One action, one transaction (ARCHITECTURE: Writing): every casework command's effects commit
together or not at all, and a notice committed just before a crash is delivered exactly once.

The real casework service runs over the real store (SQLite and PostgreSQL) behind a proxy that counts
the store calls made inside the action's unit of work and makes the Nth fail, either before the call
reaches the store or after it has written (and flushed) its rows; the commit is a failure point too.
The calls are counted as the faults move on (N = 0, 1, 2, ...), each fault on the state the others
left: until the commit the database must be exactly as it was before the action (every table, every
row) and the audit chain, with its anchored head, must verify (``cpc audit verify``). The last fault
strikes just after the commit, a crash once the transaction is durable: then all of the action's
effects are there, and nothing else: the state row, the case events, the audit entry, the reminder-row
changes and the notice rows, pinned per action below.

Then the crash between the commit and the send: a sweep that claimed notices dies before the channel
answers, and a fresh sweep (a new owner) on the same store delivers every notice exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import pytest
from sqlalchemy import select

from app.drawings import BotDrawings
from app.procedures import load_catalogue
from casework.audit import verify_chain
from casework.clock import parse_time
from casework.ports import CaseStore, UnitOfWork
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from casework.service import Casework
from scheduler.sweep import Sweep
from store.models import Base
from store.sql import SqlStore
from tests.integration.test_sweep_faults import (
    KeyedDrawings,
    RecordingSender,
    conversation_ref,
    delivery,
    duplicates,
)

#: What a confirmed decision is explained with (issue 14: the outcome needs it).
EXPLANATION = "The decision was explained to the parent in writing"

NOW = "2026-12-18T10:00"
CHAT = "19:cpc3-meeting@thread.v2"
MAX_CALLS = 200  # far more store calls than any one action makes: the loop below is bounded by it


class Injected(Exception):
    """The fault put into a store call."""


# ---------------------------------------------------------------------------------------------- the fault


class _Unit:
    """The store's unit of work, seen through the proxy: while it is open, store calls are counted."""

    def __init__(self, proxy: FaultyStore, real: UnitOfWork) -> None:
        self._proxy = proxy
        self._real = real

    def __enter__(self) -> _Unit:
        self._real.__enter__()
        self._proxy.depth += 1
        return self

    def commit(self) -> None:
        self._proxy.point("commit", self._real.commit)

    def rollback(self) -> None:
        self._real.rollback()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._proxy.depth -= 1
        self._real.__exit__(exc_type, exc, tb)


class FaultyStore:
    """The real store; inside a unit of work the call numbered ``fail_at`` raises :class:`Injected`,
    ``before`` it reaches the store or ``after`` it returned (its rows written into the session)."""

    def __init__(self, real: SqlStore) -> None:
        self.real = real
        self.depth = 0
        self.fail_at: int | str | None = None
        self.when = "before"
        self.calls: list[str] = []
        self.fired: str | None = None

    def arm(self, fail_at: int | str | None, when: str = "before") -> None:
        """Fail the call numbered ``fail_at`` (or the first call of that name)."""
        self.fail_at, self.when, self.calls, self.fired = fail_at, when, [], None

    def unit_of_work(self) -> _Unit:
        return _Unit(self, self.real.unit_of_work())

    def point(self, name: str, call: Callable[[], Any]) -> Any:
        n = len(self.calls)
        self.calls.append(name)
        strike = self.fired is None and self.fail_at in (n, name)
        if strike and self.when == "before":
            self.fired = f"before {name} (call {n})"
            raise Injected(self.fired)
        result = call()
        if strike and self.when == "after":
            self.fired = f"after {name} (call {n})"
            raise Injected(self.fired)
        return result

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if not callable(attr) or self.depth == 0:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            return self.point(name, lambda: attr(*args, **kwargs))

        return counted


# ---------------------------------------------------------------------------------------------- the world


class Clock:
    def __init__(self, at: str) -> None:
        self.at = parse_time(at)

    def __call__(self) -> datetime:
        return self.at


@dataclass
class World:
    store: SqlStore
    faulty: FaultyStore
    cw: Casework
    clock: Clock
    ids: dict[str, int] = field(default_factory=dict)


def make_world(store: SqlStore) -> World:
    clock = Clock(NOW)
    faulty = FaultyStore(store)
    cw = Casework(cast(CaseStore, faulty), load_catalogue().areas, clock)
    for pid, agency, line in [
        ("chair", "social_care", "lm"),
        ("pc", "police", None),
        ("nurse", "health", None),
        ("hos", "social_care", None),
        ("cm", "social_care", None),
        ("lm", "social_care", None),
    ]:
        store.upsert_person(Person(pid, f"{pid}@example.org", pid, agency, line))
        store.save_conversation_ref(pid, conversation_ref(pid))
    store.grant_role(RoleGrant("hos", "head_of_safeguarding", "sussex"))
    store.grant_role(RoleGrant("cm", "complaints_manager", "sussex"))
    attendees = (Attendee("pc", "police"), Attendee("nurse", "health"))
    for ref, held in (("CPC-1", "2026-12-17T14:00"), ("CPC-2", "2026-12-10T14:00")):
        at = parse_time(held)
        store.add_conference(Conference(ref, "sussex", "initial", held_at=at, chair_id="chair", attendees=attendees))
        store.record_event(CaseEvent(ref, "conference_held", at, "test"))
        cw.replan_reminders(ref)
    store.add_conference(Conference("CPC-3", "sussex", "initial", chair_id="chair", attendees=attendees))
    return World(store, faulty, cw, clock)


def _raise(w: World) -> None:
    w.ids["pc"] = _id(w.cw.raise_dissent("pc", "CPC-1", "Threshold for a plan is not met on the evidence").dissent.id)


def _raise_nurse(w: World) -> None:
    w.ids["nurse"] = _id(w.cw.raise_dissent("nurse", "CPC-1", "The plan does not address the risk at home").dissent.id)


def _raise_late(w: World) -> None:
    w.ids["late"] = _id(w.cw.raise_dissent("pc", "CPC-2", "I was not given the minutes in time to object").dissent.id)


def _id(value: int | None) -> int:
    assert value is not None
    return value


def _step(w: World, event: str, at: str) -> None:
    w.cw.record_step("cm", "CPC-1", "stage2", event, parse_time(at), w.cw.view("cm", "CPC-1").version)


def _correct(w: World) -> None:
    items = w.cw.correctable("chair", "CPC-1")
    closed = next(e for e in items.events if e.name == "closed")
    w.cw.correct("chair", "CPC-1", str(closed.id), "The outcome was recorded on the wrong case", items.version)


# (name, action, tested). Each action runs on the state the ones before it left; setup steps are not tested.
STEPS: list[tuple[str, Callable[[World], object], bool]] = [
    ("raise_dissent", _raise, True),
    (
        "amend_dissent",
        lambda w: w.cw.amend_dissent("pc", "CPC-1", "Threshold for a plan is not met: no evidence of harm"),
        True,
    ),
    ("record_dissent", lambda w: w.cw.record_dissent("chair", w.ids["pc"], "raised"), True),
    (
        "decide_dissent",
        lambda w: w.cw.decide_dissent("hos", w.ids["pc"], False, "The threshold was correctly applied", "recorded"),
        True,
    ),
    ("setup: nurse raises", _raise_nurse, False),
    ("withdraw_dissent", lambda w: w.cw.withdraw_dissent("nurse", "CPC-1"), True),
    ("setup: a late dissent", _raise_late, False),
    (
        "decline_dissent",
        lambda w: w.cw.decline_dissent("chair", w.ids["late"], "Raised a week after the conference ended", "raised"),
        True,
    ),
    (
        "record_complaint",
        lambda w: w.cw.record_complaint("chair", "CPC-1", date(2026, 12, 18), "parent", "decision", "the plan"),
        True,
    ),
    ("record_step", lambda w: _step(w, "stage1_meeting_held", "2026-12-18T09:00"), True),
    ("setup: stage 1 response", lambda w: _step(w, "stage1_response_sent", "2026-12-18T09:30"), False),
    (
        "record_outcome",
        lambda w: w.cw.record_outcome("cm", "CPC-1", "confirmed", w.cw.view("cm", "CPC-1").version, EXPLANATION),
        True,
    ),
    ("correct", _correct, True),
    ("link_chat", lambda w: w.cw.link_chat("chair", "CPC-3", CHAT), True),
    ("meeting_event start", lambda w: w.cw.meeting_event(CHAT, True, parse_time("2026-12-18T09:00")), True),
    ("meeting_event end", lambda w: w.cw.meeting_event(CHAT, False, parse_time("2026-12-18T09:50")), True),
]
TESTED = [name for name, _, tested in STEPS if tested]


# ---------------------------------------------------------------------------------------------- what changed

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(store: SqlStore) -> Snapshot:
    """Every row of every table, in primary-key order."""
    out: Snapshot = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    return out


def changes(before: Snapshot, after: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """Per table, the rows that are new or changed (as dicts); tables with none are left out."""
    columns = {t.name: [c.name for c in t.columns] for t in Base.metadata.sorted_tables}
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rows in after.items():
        old = set(before[name])
        new = [dict(zip(columns[name], r, strict=True)) for r in rows if r not in old]
        gone = [r for r in before[name] if r not in set(rows)]
        assert len(gone) <= len(new), f"rows were deleted from {name}: {gone}"
        if new:
            out[name] = new
    return out


def effects(before: Snapshot, after: Snapshot) -> dict[str, Counter[tuple[Any, ...]]]:
    """What an action did, in words: the new or changed rows of each table, by the columns that say what."""
    says = {
        "dissents": ("person_id", "state"),
        "complaints": ("complainant_role", "stage"),
        "conferences": ("reference", "held", "ended", "chat"),
        "case_events": ("name", "withdrawn"),
        "audit_log": ("action",),
        "audit_head": ("moved",),
        "notices": ("kind", "person_id", "state"),
        "reminders": ("rule_id", "state"),
        "case_texts": ("field",),
    }
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    for table, rows in changes(before, after).items():
        picked: Counter[tuple[Any, ...]] = Counter()
        for r in rows:
            r = {
                **r,
                "held": r.get("held_at") is not None,
                "ended": r.get("ended_at") is not None,
                "chat": r.get("meeting_chat_id") is not None,
                "withdrawn": r.get("withdrawn_at") is not None,
                "moved": True,
            }
            picked[tuple(r[c] for c in says.get(table, ()))] += 1
        out[table] = picked
    return out


def _c(*items: tuple[Any, ...]) -> Counter[tuple[Any, ...]]:
    return Counter(items)


# What each action does, all of it. The audit head moves with every audit entry.
EXPECTED: dict[str, dict[str, Counter[tuple[Any, ...]]]] = {
    "raise_dissent": {
        "dissents": _c(("pc", "raised")),
        "case_events": _c(("dissent_raised", False)),
        "audit_log": _c(("dissent.raised",)),
        "notices": _c(("chair_prompt", "chair", "pending")),
    },
    "amend_dissent": {
        "dissents": _c(("pc", "raised")),
        "audit_log": _c(("dissent.amended",)),
        "notices": _c(("chair_prompt", "chair", "pending")),
    },
    "record_dissent": {
        "dissents": _c(("pc", "recorded")),
        "case_events": _c(("dissent_recorded", False)),
        "audit_log": _c(("dissent.recorded",)),
        "notices": _c(("line_manager_notice", "lm", "pending"), ("decision_request", "hos", "pending")),
    },
    "decide_dissent": {
        "dissents": _c(("pc", "not_upheld")),
        "case_events": _c(("dissent_not_upheld", False)),
        "audit_log": _c(("dissent.not_upheld",)),
        "case_texts": _c(("decision-reasons",)),  # the reasons, kept out of the audit entry
        "notices": _c(("decision_made", "pc", "pending"), ("decision_made", "chair", "pending")),
    },
    "withdraw_dissent": {
        "dissents": _c(("nurse", "withdrawn")),
        # Its dissent_raised event stops counting: no duty is owed on a withdrawn dissent.
        "case_events": _c(("dissent_raised", True)),
        "audit_log": _c(("dissent.withdrawn",)),
        "notices": _c(("dissent_withdrawn", "chair", "pending")),
    },
    "decline_dissent": {
        "dissents": _c(("pc", "declined")),
        "case_events": _c(("dissent_raised", True)),
        "audit_log": _c(("dissent.declined",)),
        "case_texts": _c(("decision-reasons",)),
        "notices": _c(("decision_made", "pc", "pending")),
    },
    "record_complaint": {
        "complaints": _c(("parent", "stage1")),
        "case_events": _c(("complaint_received", False)),
        "audit_log": _c(("complaint.received",)),
        "notices": _c(("complaint_logged", "cm", "pending")),
    },
    "record_step": {
        "case_events": _c(("stage1_meeting_held", False)),
        "audit_log": _c(("complaint.stage1_meeting_held",)),
    },
    "record_outcome": {
        "complaints": _c(("parent", "closed:confirmed")),
        "case_events": _c(("closed", False)),
        "audit_log": _c(("complaint.closed",)),
        "case_texts": _c(("outcome-explanation",)),  # the explanation a confirmed decision needs
    },
    "correct": {
        "complaints": _c(("parent", "stage1")),
        "case_events": _c(("closed", True)),
        "audit_log": _c(("case.corrected",)),
        "case_texts": _c(("correction-reason",)),
    },
    "link_chat": {
        "conferences": _c(("CPC-3", False, False, True)),
        "audit_log": _c(("conference.linked",)),
    },
    "meeting_event start": {
        "conferences": _c(("CPC-3", True, False, True)),
        "case_events": _c(("conference_held", False)),
        "audit_log": _c(("conference.started",)),
    },
    "meeting_event end": {
        "conferences": _c(("CPC-3", True, True, True)),
        "case_events": _c(("conference_ended", False)),
        "audit_log": _c(("conference.ended",)),
        "notices": _c(("window_open", "pc", "pending"), ("window_open", "nurse", "pending")),
    },
}
# The reminder rows each action adds or changes (rule, new state). None: not pinned. Withdrawing or
# declining the case's only dissent should cancel the chair's and the reviewing manager's reminders
# about it, but today leaves them pending (reported; ``dissent_raised`` still makes the duties apply),
# so those two are not pinned here: all-or-none is checked for them as for every action, row by row.
EXPECTED_REMINDERS: dict[str, set[tuple[str, str]] | None] = {
    # The attendees' "window opened" reminders, not yet sent, are cancelled: the window rule is met.
    "raise_dissent": {("dissent-window", "cancelled"), ("dissent-decision", "pending")},
    "amend_dissent": set(),
    "record_dissent": set(),
    "decide_dissent": {("dissent-decision", "cancelled")},
    "withdraw_dissent": None,
    "decline_dissent": None,
    "record_complaint": {("stage1-meeting", "pending")},
    "record_step": {("stage1-meeting", "cancelled"), ("stage1-response", "pending")},
    "record_outcome": set(),
    "correct": set(),
    "link_chat": set(),
    "meeting_event start": set(),
    # The attendees were told by the meeting-end notices: their "window opened" rows are not sent again.
    "meeting_event end": {("dissent-window", "notified")},
}


def audit_problems(store: SqlStore) -> list[str]:
    """``cpc audit verify``: the chain, and the head anchored when the newest entry was written."""
    return verify_chain(store.iter_audit(), store.audit_head(), check_head=True)


# ---------------------------------------------------------------------------------------------- the tests


@pytest.fixture()
def world(store: SqlStore) -> Iterator[World]:
    yield make_world(store)


@pytest.mark.parametrize("action", TESTED)
def test_a_failure_at_any_store_call_leaves_all_of_the_action_or_none(world: World, action: str) -> None:
    for name, run, _ in STEPS:
        if name == action:
            break
        run(world)
    before = snapshot(world.store)
    faults: list[str] = []
    for n in range(MAX_CALLS):
        for when in ("before", "after"):
            world.faulty.arm(n, when)
            with pytest.raises(Injected):
                run(world)
            assert world.faulty.fired is not None
            faults.append(world.faulty.fired)
            assert audit_problems(world.store) == [], world.faulty.fired
            if world.faulty.fired == f"after commit (call {n})":
                break
            # Not committed: not one row of the action is left, in any table.
            assert changes(before, snapshot(world.store)) == {}, f"{action}: the fault {world.faulty.fired} left a part"
        else:
            continue
        break
    else:
        raise AssertionError(f"{action} made more than {MAX_CALLS} store calls")
    calls = world.faulty.calls
    assert calls[-1] == "commit" and "commit" not in calls[:-1], calls
    assert len(faults) == 2 * len(calls)  # each call failed before it and after it
    # The last fault struck after the commit (a crash once the transaction was durable): all of it is there.
    done = effects(before, snapshot(world.store))
    reminders = set(done.pop("reminders", Counter()))
    assert done.pop("audit_head") == _c((True,))
    assert done == EXPECTED[action]
    if (expected := EXPECTED_REMINDERS[action]) is not None:
        assert reminders == expected


def test_notices_committed_just_before_a_crash_are_delivered_exactly_once(store: SqlStore, tmp_path: Path) -> None:
    """Crashes after the commit and before the send: every notice the actions queued is delivered once."""
    world = make_world(store)
    for _name, run, _ in STEPS:
        run(world)
    # One more action, and the process dies the moment its transaction is durable.
    world.faulty.arm("commit", "after")
    with pytest.raises(Injected, match="after commit"):
        world.cw.raise_dissent("nurse", "CPC-3", "The plan does not address the risk at home")
    rows = [n for ref in ("CPC-1", "CPC-2", "CPC-3") for n in store.notices_for(ref)]
    assert Counter(n.kind for n in rows) == {
        "chair_prompt": 5,  # raised, amended, the nurse's, the late one, and the one the crash followed
        "decision_made": 3,
        "line_manager_notice": 1,
        "decision_request": 1,
        "dissent_withdrawn": 1,
        "complaint_logged": 1,
        "window_open": 2,
    }
    assert {n.state for n in rows} == {"pending"}
    queued = {n.key for n in rows}
    areas = load_catalogue().areas
    drawings = KeyedDrawings(store, BotDrawings(Casework(store, areas, world.clock)))

    async def crash_mid_batch() -> None:
        """A sweep claims a batch and dies while the channel has not yet answered: nothing is marked."""
        hung = RecordingSender(hang=True, who="dead")
        dead = Sweep(store, areas, delivery(hung, tmp_path), world.clock, drawings, batch=5, owner="dead")
        task = asyncio.create_task(dead.run())
        for _ in range(500):
            if hung.waiting == 5:
                break
            await asyncio.sleep(0.01)
        assert hung.waiting == 5
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert sum(hung.sent.values()) == 0

    asyncio.run(crash_mid_batch())
    sender = RecordingSender(who="fresh")
    fresh = Sweep(store, areas, delivery(sender, tmp_path), world.clock, drawings, owner="fresh")
    asyncio.run(fresh.run())
    # The dead sweep's five are leased to it until its lease runs out; the rest went at once.
    assert len([k for k in queued if sender.sent[k]]) == len(queued) - 5
    world.clock.at += timedelta(seconds=fresh.lease_seconds + 1)
    asyncio.run(fresh.run())
    asyncio.run(fresh.run())
    notices = {k: n for k, n in sender.sent.items() if k in queued}
    assert notices == dict.fromkeys(queued, 1)
    assert duplicates(sender.sent) == 0  # nor any reminder twice
    rows = [n for ref in ("CPC-1", "CPC-2", "CPC-3") for n in store.notices_for(ref)]
    assert {(n.state, n.channel) for n in rows} == {("sent", "teams")}
    assert audit_problems(store) == []
