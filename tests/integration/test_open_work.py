"""``deadlines`` and the replan read only open cases (issue 12): the answers are those of the old walk
over every conference ever stored, on a varied store, at several moments, on both backends; a closed
case reopened by a change comes back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from app.procedures import load_catalogue
from casework.clock import parse_time
from casework.packs import Area
from casework.periods import parse_period
from casework.records import Attendee, CaseEvent, Complaint, Conference, Dissent, Person, RoleGrant
from casework.results import Due
from casework.service import Casework
from store.sql import SqlStore

PEOPLE = ("chair1", "chair2", "pc", "nurse", "gp", "hos", "cm", "everywhere", "outsider")
AREAS = ("sussex", "london", "hampshire")


class Clock:
    def __init__(self, at: str) -> None:
        self.at = parse_time(at)

    def __call__(self) -> datetime:
        return self.at


def old_walk(cw: Casework, actor: str) -> list[Due]:
    """The semantics before issue 12: every stored conference, its roles read for it, loaded alone."""
    per_case = []
    for conference in cw.store.list_conferences():
        if conference.area not in cw.areas:
            continue
        case = cw.store.load_case(conference.reference)
        assert case is not None
        per_case.append(cw.dues_in(actor, case, cw.store.roles_of(actor, conference.area)))
    return cw.soonest(per_case)


def shown(dues: list[Due]) -> list[tuple[object, ...]]:
    return [(d.reference, d.kind, d.holder, d.deadline.id, d.deadline.due, d.deadline.status, d.purpose) for d in dues]


def seed(store: SqlStore) -> None:
    """48 cases over two years and three areas, in every state a case can be in (a few are in no
    known area): nothing started, dissents at each step, complaints open and closed, late events."""
    for pid in PEOPLE:
        store.upsert_person(Person(pid, f"{pid}@example.org", pid, "police", "hos" if pid == "pc" else None))
    store.grant_role(RoleGrant("hos", "head_of_safeguarding", "sussex"))
    store.grant_role(RoleGrant("hos", "complaints_manager", "london"))
    store.grant_role(RoleGrant("cm", "complaints_manager", "sussex"))
    store.grant_role(RoleGrant("everywhere", "head_of_safeguarding", "*"))
    start = parse_time("2026-01-05T10:00")
    for i in range(48):
        ref = f"CPC-{i:03d}"
        area = AREAS[i % 3] if i % 16 != 15 else "atlantis"
        held = start + timedelta(days=15 * i)
        attendees = (Attendee("pc", "police"), Attendee("nurse", "health"), Attendee("gp", "health"))[: 1 + i % 3]
        chair = ("chair1", "chair2", None)[i % 3 if i % 5 else 2]
        store.add_conference(Conference(ref, area, "initial", held_at=held, chair_id=chair, attendees=attendees))
        if i % 7 == 6:
            continue  # registered, nothing happened yet
        store.record_event(CaseEvent(ref, "conference_held", held))
        step = i % 6
        if step >= 1:
            store.record_event(CaseEvent(ref, "dissent_raised", held + timedelta(days=1)))
            state = ("raised", "recorded", "not_upheld", "upheld", "withdrawn")[min(step - 1, 4)]
            store.add_dissent(Dissent(None, ref, "pc", "police", "reason given", held + timedelta(days=1), state=state))
        if step >= 2:
            store.record_event(CaseEvent(ref, "dissent_recorded", held + timedelta(days=2)))
        if step == 3:
            store.record_event(CaseEvent(ref, "dissent_not_upheld", held + timedelta(days=9)))
        if step == 4:
            store.record_event(CaseEvent(ref, "dissent_upheld", held + timedelta(days=9)))
        if i % 4 == 1:
            received = held + timedelta(days=20)
            store.record_event(CaseEvent(ref, "complaint_received", received))
            closed = i % 8 == 1
            if closed:
                steps = ("managers_informed",) * (area == "sussex") + ("stage1_meeting_held", "stage1_response_sent")
                for n, name in enumerate(steps):
                    store.record_event(CaseEvent(ref, name, received + timedelta(days=1 + n)))
                store.record_event(CaseEvent(ref, "closed", received + timedelta(days=5)))
            stage = "closed:confirmed" if closed else "stage1"
            store.add_complaint(Complaint(None, ref, area, received, "parent", "decision", "", stage))


@pytest.fixture()
def world(store: SqlStore) -> Iterator[tuple[Casework, SqlStore, Clock]]:
    seed(store)
    clock = Clock("2026-03-01T09:00")
    yield Casework(store, load_catalogue().areas, clock), store, clock


@pytest.mark.parametrize("replan", [True, False], ids=["after-replan", "flags-as-stored"])
def test_deadlines_are_those_of_the_full_walk_at_every_moment(
    world: tuple[Casework, SqlStore, Clock], replan: bool
) -> None:
    cw, store, clock = world
    listed = 0
    for moment in ("2026-03-01T09:00", "2026-09-14T12:00", "2027-03-01T09:00", "2028-06-01T09:00"):
        clock.at = parse_time(moment)
        if replan:
            cw.replan_open_cases()
        for person in PEOPLE:
            new = shown(cw.deadlines_for(person))
            assert new == shown(old_walk(cw, person)), (moment, person)
            listed += len(new)
    assert listed > 50  # the fixture lists plenty: the comparison is not of empty lists
    if replan:
        # By 2028 most cases were judged closed, so the reads above really did leave cases out.
        still_open = store.open_cases_in()
        assert 0 < len(still_open) < len(store.list_conferences()) // 2


def test_the_replan_reads_only_open_cases_and_judges_them(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, store, clock = world
    known = [c.reference for c in store.list_conferences() if c.area in cw.areas]
    assert cw.replan_open_cases() == len(known)  # every case starts open (not yet judged)
    judged_open = store.open_cases_in(sorted(cw.areas))
    assert 0 < len(judged_open) < len(known)  # those with nothing started are closed already
    clock.at = parse_time("2028-06-01T09:00")
    assert cw.replan_open_cases() == len(judged_open)  # exactly the open ones are read again
    still_open = store.open_cases_in(sorted(cw.areas))
    assert 0 < len(still_open) < len(judged_open)  # time closed the windows of most
    assert cw.replan_open_cases() == len(still_open)


def test_a_closed_case_reopened_by_a_change_comes_back(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, store, clock = world
    clock.at = parse_time("2028-06-01T09:00")
    cw.replan_open_cases()
    # CPC-003 (Sussex): dissent raised, recorded and not upheld; long past every window: closed.
    assert "CPC-003" not in store.open_cases_in()
    assert "CPC-003" not in {d.reference for d in cw.deadlines_for("hos")}
    decision = next(e for e in store.events_for("CPC-003") if e.name == "dissent_not_upheld")
    assert decision.id is not None
    # A correction withdraws the decision: the head of safeguarding's duty is overdue again.
    assert store.withdraw_event(decision.id, "cm", clock.at)
    assert "CPC-003" in store.open_cases_in()
    dues = cw.deadlines_for("hos")
    assert ("CPC-003", "dissent-decision", "missed") in {(d.reference, d.deadline.id, d.deadline.status) for d in dues}
    assert shown(dues) == shown(old_walk(cw, "hos"))
    # Recording the decision again closes it at the next plan.
    store.record_event(CaseEvent("CPC-003", "dissent_not_upheld", clock.at))
    cw.replan_reminders("CPC-003")
    assert "CPC-003" not in store.open_cases_in()


@pytest.mark.parametrize(
    "change",
    ["event", "dissent", "complaint", "complaint_stage", "attendee", "conference", "dissent_state"],
)
def test_every_change_to_a_case_marks_it_open_again(world: tuple[Casework, SqlStore, Clock], change: str) -> None:
    cw, store, clock = world
    clock.at = parse_time("2028-06-01T09:00")
    cw.replan_open_cases()
    ref = "CPC-003"
    assert ref not in store.open_cases_in()
    at = clock.at
    if change == "event":
        store.record_event(CaseEvent(ref, "review_held", at))
    elif change == "dissent":
        store.add_dissent(Dissent(None, ref, "nurse", "health", "another reason", at))
    elif change == "complaint":
        store.add_complaint(Complaint(None, ref, "sussex", at, "parent", "decision", ""))
    elif change == "complaint_stage":
        cid = store.add_complaint(Complaint(None, ref, "sussex", at, "parent", "decision", "")).id
        cw.replan_reminders(ref)
        store.set_case_open(ref, False)
        assert cid is not None and ref not in store.open_cases_in()
        store.set_complaint_stage(cid, "stage2")
    elif change == "attendee":
        store.add_attendee(ref, Attendee("outsider", "education"))
    elif change == "conference":
        conference = store.get_conference(ref)
        assert conference is not None
        store.update_conference(conference)
    else:
        [dissent] = store.dissents_for(ref)
        assert dissent.id is not None
        assert store.transition_dissent(dissent.id, ("not_upheld",), "upheld")
    assert ref in store.open_cases_in()


def test_the_bulk_reads_equal_the_one_at_a_time_reads(world: tuple[Casework, SqlStore, Clock]) -> None:
    _cw, store, _clock = world
    references = [c.reference for c in store.list_conferences()]
    assert store.load_cases([*reversed(references), "CPC-404"]) == [store.load_case(r) for r in reversed(references)]
    for area in (*AREAS, "atlantis"):
        holders = store.role_holders(area)
        for role in ("head_of_safeguarding", "complaints_manager", "chair"):
            assert holders.get(role, []) == store.people_with_role(role, area)
        assert store.roles_in_areas("hos", [area]) == {area: store.roles_of("hos", area)}
    assert store.people_by_ids(["pc", "nobody", "cm"]) == {"pc": store.get_person("pc"), "cm": store.get_person("cm")}
    # The open cases of a person: those they chair or attended, and only open ones.
    store.set_case_open("CPC-003", False)  # chaired by chair1
    store.set_case_open("CPC-002", False)  # attended by gp
    chaired = {c.reference for c in store.list_conferences() if c.chair_id == "chair1"}
    attended = {c.reference for c in store.list_conferences() if any(a.person_id == "gp" for a in c.attendees)}
    open_now = set(store.open_cases_in())
    assert set(store.open_cases_of("chair1")) == chaired & open_now
    assert set(store.open_cases_of("gp")) == attended & open_now
    assert "CPC-003" in chaired - open_now and "CPC-002" in attended - open_now


def longer_window(area: Area, rule_id: str, period: str) -> Area:
    """The area as it would be after its pack gave ``rule_id`` a new period (an authority's change)."""
    rules = tuple(
        replace(r, candidates=tuple(replace(c, period=parse_period(period)) for c in r.candidates))
        if r.id == rule_id
        else r
        for r in area.rules
    )
    return replace(area, rules=rules)


def test_applying_changed_rules_reaches_cases_judged_closed(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, store, clock = world
    clock.at = parse_time("2028-06-01T09:00")
    cw.replan_open_cases()
    before = set(store.open_cases_in())
    # The authority lengthens the family's window to complain from 10 working days to 1,000 (about four
    # years): every Sussex case held since 2026 with no complaint yet has a running window again.
    changed = Casework(
        store, {**cw.areas, "sussex": longer_window(cw.areas["sussex"], "complaint-window", "1000 working days")}, clock
    )
    changed.replan_open_cases()
    assert set(store.open_cases_in()) == before  # the daily replan reads only open cases: it cannot see it
    dry = changed.apply_rules(["sussex"], dry_run=True)
    assert set(store.open_cases_in()) == before  # a dry run writes nothing
    assert dry.dry_run and dry.areas == ["sussex"] and dry.opened > 0 and dry.closed == 0
    done = changed.apply_rules(["sussex"])
    after = set(store.open_cases_in())
    assert (
        (done.open, done.opened, done.closed)
        == (dry.open, dry.opened, dry.closed)
        == (len(after & sussex(store)), len(after - before), 0)
    )
    # Exactly the Sussex cases held (the window's start) with no complaint made, that were closed.
    held_without_complaint = {
        ref
        for ref in sussex(store)
        if (case := store.load_case(ref)) is not None
        and not case.complaints
        and any(e.name == "conference_held" for e in case.events)
    }
    assert after - before == held_without_complaint - before
    # What the dry run said would go at once is what the real run queued.
    due = [
        r for ref in after - before for r in store.reminders_for(ref) if r.state == "pending" and r.send_at <= clock.at
    ]
    assert len(due) == dry.due_at_once
    # Back to the pack's own rules: the same cases close again.
    undone = cw.apply_rules()
    assert undone.closed == done.opened and set(store.open_cases_in()) == before
    assert undone.replanned == len([c for c in store.list_conferences() if c.area in cw.areas])


def sussex(store: SqlStore) -> set[str]:
    return {c.reference for c in store.list_conferences() if c.area == "sussex"}
