"""Cases moving through their processes, with a fake clock stepped hour by hour and a sweep each
hour: exactly the planned reminders go out, at exactly the planned times, across the Christmas and
New Year bank holidays; a met deadline's cards are updated in place and nothing follows it.

Real casework service, real store (SQLite and PostgreSQL), real sweep; the sender is a recorder."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.drawings import BotDrawings
from app.procedures import load_catalogue
from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from casework.service import Casework
from graph.outbox import FileOutbox
from scheduler.delivery import ReminderDelivery
from scheduler.sweep import Sweep
from store.sql import SqlStore

#: What a confirmed decision is explained with (issue 14: the outcome needs it).
EXPLANATION = "The decision was explained to the parent in writing"


class Recorder:
    """A Sender that records what it was asked to do, at the fake clock's time."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.log: list[tuple[str, str, str, str]] = []
        self._n = 0

    async def send(self, reference_json: str, card: dict[str, Any]) -> str:
        self._n += 1
        who = json.loads(reference_json)["user"]["id"]
        self.log.append((self.clock().strftime("%Y-%m-%d %H:%M"), "send", who, card["body"][0]["text"]))
        return f"activity-{self._n}"

    async def update(self, reference_json: str, activity_id: str, card: dict[str, Any]) -> None:
        who = json.loads(reference_json)["user"]["id"]
        self.log.append((self.clock().strftime("%Y-%m-%d %H:%M"), "update", who, card["body"][0]["text"]))


async def _no_sleep(_s: float) -> None:
    return None


def test_two_cases_through_their_processes_get_exactly_the_planned_reminders(store: SqlStore, tmp_path: Path) -> None:
    areas = load_catalogue().areas
    clock = {"now": parse_time("2026-12-14T10:00")}

    def now() -> datetime:
        return clock["now"]

    for pid, manager in [("chair", "chair-lm"), ("pc", None), ("nurse", None), ("hos", "hos-lm"), ("cm", None)]:
        store.upsert_person(Person(pid, f"{pid}@example.org", line_manager_id=manager))
        ref = {"conversation": {"id": f"a:{pid}"}, "user": {"id": pid}, "serviceUrl": "http://127.0.0.1:9/"}
        store.save_conversation_ref(pid, json.dumps(ref))
    store.upsert_person(Person("hos-lm", "hos-lm@example.org"))
    store.grant_role(RoleGrant("hos", "head_of_safeguarding", "sussex"))
    store.grant_role(RoleGrant("cm", "complaints_manager", "sussex"))
    cw = Casework(store, areas, now)
    recorder = Recorder(now)
    delivery = ReminderDelivery(recorder, FileOutbox(tmp_path / "outbox"), sleep=_no_sleep)
    sweep = Sweep(store, areas, delivery, now, BotDrawings(cw))

    def add_case(ref: str, held: str, ended: str) -> None:
        h, e = parse_time(held), parse_time(ended)
        attendees = (Attendee("pc", "police"), Attendee("nurse", "health"))
        store.add_conference(
            Conference(ref, "sussex", "initial", held_at=h, ended_at=e, chair_id="chair", attendees=attendees)
        )
        store.record_event(CaseEvent(ref, "conference_held", h, "test"))
        store.record_event(CaseEvent(ref, "conference_ended", e, "test"))
        cw.replan_reminders(ref)

    def stage1_met() -> None:
        cw.record_step("cm", "CPC-2", "stage2", "stage1_meeting_held", now(), cw.view("cm", "CPC-2").version)

    # What happens, at the hour it happens (before that hour's sweep).
    actions: dict[str, Callable[[], object]] = {
        # CPC-2: conference Mon 14 Dec 2026; a complaint on Mon 21 Dec.
        "2026-12-14 12:00": lambda: add_case("CPC-2", "2026-12-14T10:00", "2026-12-14T11:30"),
        # CPC-1: conference Thu 17 Dec 14:00-15:45; pc dissents on Fri 18 Dec, the chair records it.
        "2026-12-17 16:00": lambda: add_case("CPC-1", "2026-12-17T14:00", "2026-12-17T15:45"),
        "2026-12-18 10:00": lambda: cw.raise_dissent("pc", "CPC-1", "Threshold for a plan is not met"),
        "2026-12-18 11:00": lambda: cw.record_dissent("chair", 1, "raised"),
        "2026-12-21 10:00": lambda: cw.record_complaint("cm", "CPC-2", now(), "parent", "decision", ""),
        # The reviewing manager decides on Wed 30 Dec: the decision duty is met.
        "2026-12-30 12:00": lambda: cw.decide_dissent("hos", 1, False, "Threshold was correctly applied", "recorded"),
        # The Stage 1 meeting is held on Wed 6 Jan 2027.
        "2027-01-06 14:00": stage1_met,
    }

    async def run() -> None:
        while clock["now"] <= parse_time("2027-01-13T10:00"):
            action = actions.pop(clock["now"].strftime("%Y-%m-%d %H:%M"), None)
            if action is not None:
                action()
            await sweep.run()
            clock["now"] += timedelta(hours=1)

    asyncio.run(run())
    assert actions == {}
    # Within one sweep the order of sends is not defined: compare in time order, then by content.
    assert sorted(recorder.log) == [
        # CPC-2 ended at 11:30: the dissent window opens for each attendee (001 5.7.4).
        ("2026-12-14 12:00", "send", "nurse", "Open until Thu 17 Dec 2026, 11:30: CPC-2"),
        ("2026-12-14 12:00", "send", "pc", "Open until Thu 17 Dec 2026, 11:30: CPC-2"),
        ("2026-12-17 16:00", "send", "nurse", "Open until Sun 20 Dec 2026, 15:45: CPC-1"),
        ("2026-12-17 16:00", "send", "pc", "Open until Sun 20 Dec 2026, 15:45: CPC-1"),
        # Notices go out through the same sweep, in the hour of the action that queued them: the chair's
        # prompt (001 5.7.7(2)) and, once recorded, the reviewing manager's decision card (5.7.7(3)).
        ("2026-12-18 10:00", "send", "chair", "Dissent from CPC-1"),
        ("2026-12-18 11:00", "send", "hos", "Decide on a dissent: CPC-1"),
        # Decision due end of Tue 5 Jan 2027 (10 working days of Thu 17 Dec, skipping 25 and 28 Dec and
        # 1 Jan); 5 working days before: Mon 4 (1), Thu 31 (2), Wed 30 (3), Tue 29 (4), Thu 24 Dec (5).
        ("2026-12-24 09:00", "send", "hos", "Due in 5 working days: CPC-1"),
        # Stage 1 meeting due end of Thu 7 Jan (10 working days of Mon 21 Dec: Tue 22 (1), Wed 23 (2),
        # Thu 24 (3), Tue 29 (4), Wed 30 (5), Thu 31 (6), Mon 4 (7), Tue 5 (8), Wed 6 (9), Thu 7 (10));
        # 5 working days before: Wed 6 (1), Tue 5 (2), Mon 4 (3), Thu 31 (4), Wed 30 Dec (5).
        ("2026-12-30 09:00", "send", "chair", "Due in 5 working days: CPC-2"),
        # The decision is made at 12:00: the earlier card says so, in place; nothing more for hos.
        # The decision is told to the professional and the chair (notices), and the earlier card says so.
        ("2026-12-30 12:00", "send", "chair", "Dissent not upheld: CPC-1"),
        ("2026-12-30 12:00", "send", "pc", "Dissent not upheld: CPC-1"),
        ("2026-12-30 12:00", "update", "hos", "Done: CPC-1"),
        ("2027-01-05 09:00", "send", "chair", "Due in 2 working days: CPC-2"),
        ("2027-01-06 09:00", "send", "chair", "Due in 1 working day: CPC-2"),
        # The meeting is recorded at 14:00: the three cards are updated; no due-day or overdue card.
        ("2027-01-06 14:00", "update", "chair", "Done: CPC-2"),
        ("2027-01-06 14:00", "update", "chair", "Done: CPC-2"),
        ("2027-01-06 14:00", "update", "chair", "Done: CPC-2"),
        # Stage 1 response due within 10 working days of Wed 6 Jan: Wed 20 Jan; 5 before: Wed 13 Jan.
        ("2027-01-13 09:00", "send", "chair", "Due in 5 working days: CPC-2"),
    ]
    cancelled = [r for r in store.reminders_for("CPC-1") if r.state == "cancelled"]
    assert {r.kind for r in cancelled} >= {"before-2", "before-1", "due", "overdue-1"}
    assert all(r.state != "pending" or r.send_at > now() for r in store.reminders_for("CPC-1"))


def test_a_teams_meeting_opens_the_window_at_its_end_and_its_notice_is_not_repeated(store: SqlStore) -> None:
    areas = load_catalogue().areas
    clock = {"now": parse_time("2026-12-17T14:00")}
    cw = Casework(store, areas, lambda: clock["now"])
    for pid in ("chair", "pc", "nurse"):
        store.upsert_person(Person(pid, f"{pid}@example.org"))
    attendees = (Attendee("pc", "police"), Attendee("nurse", "health"))
    store.add_conference(Conference("CPC-1", "sussex", "initial", chair_id="chair", attendees=attendees))
    cw.link_chat("chair", "CPC-1", "19:meeting@thread.v2")
    cw.meeting_event("19:meeting@thread.v2", True, clock["now"])
    # The meeting is running: nobody is told "you may dissent" yet.
    assert [r for r in store.reminders_for("CPC-1") if r.rule_id == "dissent-window"] == []
    clock["now"] = parse_time("2026-12-17T15:30")
    changed = cw.meeting_event("19:meeting@thread.v2", False, clock["now"])
    assert changed is not None and {n.person_id for n in changed.notices} == {"pc", "nurse"}
    rows = [(r.kind, r.person_id, r.state) for r in store.reminders_for("CPC-1") if r.rule_id == "dissent-window"]
    # The meeting-end notices told them; the rows record it and the sweep will not send them again.
    assert sorted(rows) == [("opened", "nurse", "notified"), ("opened", "pc", "notified")]


def test_closing_a_complaint_cancels_its_pending_reminders(store: SqlStore) -> None:
    areas = load_catalogue().areas
    clock = {"now": parse_time("2027-01-04T10:00")}
    cw = Casework(store, areas, lambda: clock["now"])
    for pid in ("chair", "cm"):
        store.upsert_person(Person(pid, f"{pid}@example.org"))
    store.grant_role(RoleGrant("cm", "complaints_manager", "sussex"))
    held = parse_time("2026-12-30T10:00")
    store.add_conference(Conference("CPC-1", "sussex", "initial", held_at=held, chair_id="chair"))
    store.record_event(CaseEvent("CPC-1", "conference_held", held))
    cw.record_complaint("cm", "CPC-1", clock["now"], "parent", "decision", "")
    assert {r.rule_id for r in store.reminders_for("CPC-1") if r.state == "pending"} == {"stage1-meeting"}
    clock["now"] = parse_time("2027-01-05T10:00")
    # An outcome follows the Stage 1 response at the earliest (001 5.7.10, 5.7.16).
    for event in ("stage1_meeting_held", "stage1_response_sent"):
        cw.record_step("cm", "CPC-1", "stage2", event, clock["now"], cw.view("cm", "CPC-1").version)
    cw.record_outcome("cm", "CPC-1", "confirmed", cw.view("cm", "CPC-1").version, EXPLANATION)
    assert {r.state for r in store.reminders_for("CPC-1")} == {"cancelled"}


def test_one_attendees_dissent_leaves_the_others_right_and_its_reminders(store: SqlStore) -> None:
    """The right to dissent is each professional's own (001 5.7.4): the police officer's dissent closes
    the window for her, not for the nurse, whose "open until" card still goes and whose deadlines still
    show the right. Held Thu 17 Dec 2026 14:00, ended 15:45: open until Sun 20 Dec 15:45 (72 hours)."""
    areas = load_catalogue().areas
    clock = {"now": parse_time("2026-12-17T15:50")}
    cw = Casework(store, areas, lambda: clock["now"])
    for pid in ("chair", "pc", "nurse"):
        store.upsert_person(Person(pid, f"{pid}@example.org"))
    held, ended = parse_time("2026-12-17T14:00"), parse_time("2026-12-17T15:45")
    attendees = (Attendee("pc", "police"), Attendee("nurse", "health"))
    store.add_conference(
        Conference("CPC-1", "sussex", "initial", held_at=held, ended_at=ended, chair_id="chair", attendees=attendees)
    )
    store.record_event(CaseEvent("CPC-1", "conference_held", held))
    store.record_event(CaseEvent("CPC-1", "conference_ended", ended))
    cw.replan_reminders("CPC-1")

    def window_rows() -> dict[str, str]:
        return {r.person_id: r.state for r in store.reminders_for("CPC-1") if r.rule_id == "dissent-window"}

    assert window_rows() == {"pc": "pending", "nurse": "pending"}
    cw.raise_dissent("pc", "CPC-1", "Threshold for a plan is not met")
    # Hers is used; the nurse's card is still to be sent.
    assert window_rows() == {"pc": "cancelled", "nurse": "pending"}
    nurse = [(d.kind, d.holder, d.deadline.rule.id) for d in cw.deadlines_for("nurse")]
    assert ("right", "you", "dissent-window") in nurse
    assert ("right", "you", "dissent-window") not in [
        (d.kind, d.holder, d.deadline.rule.id) for d in cw.deadlines_for("pc")
    ]
    # When the window closes, nobody is told of it again.
    clock["now"] = parse_time("2026-12-20T16:00")
    cw.replan_reminders("CPC-1")
    assert "dissent-window" not in [d.deadline.rule.id for d in cw.deadlines_for("nurse")]
