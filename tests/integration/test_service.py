"""The casework service over a real store: roles, windows, idempotent state changes, audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from app.procedures import load_catalogue
from casework.audit import verify_chain
from casework.clock import parse_time
from casework.errors import AlreadyDone, InvalidInput, NotEntitled, StaleAction, UnknownConference, UnknownPerson
from casework.free_text import text_hash
from casework.lifecycle import StepNotValid
from casework.records import Attendee, Conference, Person, RoleGrant
from casework.service import Casework
from store.sql import SqlStore, open_store

#: What a confirmed decision is explained with (issue 14: the outcome needs it).
EXPLANATION = "The decision was explained to the parent in writing"


class Clock:
    def __init__(self, at: str) -> None:
        self.at = parse_time(at)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: str) -> None:
        self.at = parse_time(at)


@pytest.fixture()
def world() -> Iterator[tuple[Casework, SqlStore, Clock]]:
    store = open_store("sqlite://")
    clock = Clock("2026-12-17T16:00")
    cw = Casework(store, load_catalogue().areas, clock)
    for pid, agency, line in [
        ("chair", "social_care", "lm"),
        ("pc", "police", None),
        ("nurse", "health", None),
        ("hos", "social_care", None),
        ("cm", "social_care", None),
        ("lm", "social_care", None),
        ("outsider", "education", None),
    ]:
        store.upsert_person(Person(pid, f"{pid}@example.org", pid, agency, line))
    store.grant_role(RoleGrant("hos", "head_of_safeguarding", "sussex"))
    store.grant_role(RoleGrant("cm", "complaints_manager", "sussex"))
    store.add_conference(
        Conference(
            "CPC-1",
            "sussex",
            "initial",
            held_at=parse_time("2026-12-17T14:00"),
            chair_id="chair",
            attendees=(Attendee("pc", "police"), Attendee("nurse", "health")),
        )
    )
    from casework.records import CaseEvent

    store.record_event(CaseEvent("CPC-1", "conference_held", parse_time("2026-12-17T14:00"), "test"))
    yield cw, store, clock
    store.close()


def test_whole_dissent_flow(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, store, clock = world
    raised = cw.raise_dissent("pc", "cpc-1", "Threshold for a plan is not met on the evidence")
    assert raised.window_due is not None and raised.window_due.isoformat() == "2026-12-20T14:00:00+00:00"
    assert not raised.dissent.late
    assert [(n.kind, n.person_id) for n in raised.notices] == [("chair_prompt", "chair")]
    assert raised.dissent.id is not None
    did = raised.dissent.id

    changed = cw.record_dissent("chair", did, "raised")
    assert {(n.kind, n.person_id) for n in changed.notices} == {
        ("line_manager_notice", "lm"),
        ("decision_request", "hos"),
    }
    again = cw.record_dissent("chair", did, "raised")  # a second click: the first answer, nothing new
    assert again.repeated and again.notices == () and again.summary == changed.summary

    with pytest.raises(NotEntitled):
        cw.decide_dissent("chair", did, True, "Reasons given at length", "recorded")
    clock.set("2027-01-04T10:00")
    decided = cw.decide_dissent("hos", did, True, "The plan threshold was misapplied", "recorded")
    assert decided.dissent is not None and decided.dissent.state == "upheld"
    with pytest.raises(AlreadyDone):
        cw.decide_dissent("hos", did, False, "Changed my mind entirely", "recorded")

    view = cw.view("hos", "CPC-1")
    tl = next(t for t in view.timelines if t.process == "dissent")
    assert tl.get("dissent-decision").status == "met"
    # Reconvene: 15 wd from Mon 4 Jan 2027: 5-8 (1-4), 11-15 (5-9), 18-22 (10-14), Mon 25 Jan (15).
    assert tl.get("dissent-reconvene").as_dict()["due"] == "2027-01-25T23:59:59+00:00"
    actions = [e.action for e in store.audit_entries("CPC-1")]
    assert actions == ["dissent.raised", "dissent.recorded", "dissent.upheld"]
    assert verify_chain(store.iter_audit(), store.audit_head(), check_head=True) == []


def test_only_attendees_dissent_and_late_is_flagged(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, store, clock = world
    with pytest.raises(NotEntitled, match="only professionals who attended"):
        cw.raise_dissent("outsider", "CPC-1", "I was not there but disagree")
    with pytest.raises(UnknownPerson):
        cw.raise_dissent("stranger", "CPC-1", "Who am I to say this")
    with pytest.raises(UnknownConference):
        cw.raise_dissent("pc", "CPC-404", "No such conference exists")
    with pytest.raises(InvalidInput, match="at least"):
        cw.raise_dissent("pc", "CPC-1", "no")
    clock.set("2026-12-20T14:00:01")
    late = cw.raise_dissent("nurse", "CPC-1", "Health needs were not considered")
    assert late.dissent.late
    with pytest.raises(AlreadyDone):
        cw.raise_dissent("nurse", "CPC-1", "Health needs were not considered again")
    assert store.audit_entries("CPC-1")[-1].detail["late"] is True


def test_stale_card_refused(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, _store, _clock = world
    did = cw.raise_dissent("pc", "CPC-1", "Threshold for a plan is not met").dissent.id
    assert did is not None
    with pytest.raises(StaleAction):
        cw.record_dissent("chair", did, "recorded")  # a card drawn for a state it never had
    with pytest.raises(NotEntitled):
        cw.record_dissent("pc", did, "raised")  # not the chair


def test_complaint_through_stage_two(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, db, clock = world
    clock.set("2026-12-23T12:00")
    with pytest.raises(NotEntitled):
        cw.record_complaint("pc", "CPC-1", parse_time("2026-12-23T10:00"), "parent", "decision", "")
    with pytest.raises(InvalidInput, match="never a name"):
        cw.record_complaint("cm", "CPC-1", parse_time("2026-12-23T10:00"), "Mrs Smith", "decision", "")
    cw.record_complaint("cm", "CPC-1", parse_time("2026-12-23T10:00"), "parent", "decision", "about the plan")
    view = cw.view("cm", "CPC-1")
    tl = next(t for t in view.timelines if t.process == "complaint")
    assert tl.get("stage1-meeting").as_dict()["due"] == "2027-01-11T23:59:59+00:00"
    clock.set("2027-01-20T12:00")
    v = cw.view("cm", "CPC-1").version
    cw.record_step("cm", "CPC-1", "stage2", "stage1_meeting_held", parse_time("2027-01-08T10:00"), v)
    # The same step again (a double click): the first answer, nothing recorded twice.
    again = cw.record_step("cm", "CPC-1", "stage2", "stage1_meeting_held", parse_time("2027-01-08T10:00"), v)
    assert again.repeated and [e.name for e in cw.view("cm", "CPC-1").events].count("stage1_meeting_held") == 1
    with pytest.raises(StaleAction):
        cw.record_step("cm", "CPC-1", "stage2", "stage1_response_sent", parse_time("2027-01-15T10:00"), v)
    v = cw.view("cm", "CPC-1").version
    cw.record_step("cm", "CPC-1", "stage2", "stage1_response_sent", parse_time("2027-01-15T10:00"), v)
    v = cw.view("cm", "CPC-1").version
    cw.record_step("cm", "CPC-1", "stage2", "stage2_requested", parse_time("2027-01-19T10:00"), v)
    tl = next(t for t in cw.view("cm", "CPC-1").timelines if t.process == "complaint")
    assert tl.get("stage1-meeting").status == "met"
    # Stage 2 meeting within 28 days of Tue 19 Jan 2027 -> Tue 16 Feb 2027.
    assert tl.get("stage2-meeting").as_dict()["due"] == "2027-02-16T23:59:59+00:00"
    v = cw.view("cm", "CPC-1").version
    with pytest.raises(InvalidInput, match="is before"):
        cw.record_step("cm", "CPC-1", "stage2", "stage2_meeting_held", parse_time("2027-01-18T10:00"), v)
    # An outcome needs the Stage 2 letter first (001 5.7.21): refused, naming the next step.
    with pytest.raises(StepNotValid, match="Stage 2 meeting held"):
        cw.record_outcome("cm", "CPC-1", "confirmed", v, EXPLANATION)
    cw.record_step("cm", "CPC-1", "stage2", "stage2_meeting_held", parse_time("2027-01-19T15:00"), v)
    v = cw.view("cm", "CPC-1").version
    cw.record_step("cm", "CPC-1", "stage2", "stage2_letter_sent", parse_time("2027-01-20T10:00"), v)
    v = cw.view("cm", "CPC-1").version
    # "Decision confirmed, with an explanation" (001 5.7.10): refused without one, and nothing changes.
    with pytest.raises(InvalidInput, match="give the explanation sent to the family"):
        cw.record_outcome("cm", "CPC-1", "confirmed", v, "  ok ")
    assert cw.view("cm", "CPC-1").version == v
    cw.record_outcome("cm", "CPC-1", "confirmed", v, EXPLANATION)
    kept = [t for t in db.free_texts("CPC-1") if t.field == "outcome-explanation"]
    assert [t.text for t in kept] == [EXPLANATION]
    (closed,) = [e for e in db.audit_entries("CPC-1") if e.action == "complaint.closed"]
    assert closed.detail == {"outcome": "confirmed", "explanation_sha256": text_hash(EXPLANATION)}
    # The same outcome again is answered as the first; another outcome is refused: it is closed.
    assert cw.record_outcome("cm", "CPC-1", "confirmed", cw.view("cm", "CPC-1").version).repeated
    with pytest.raises(AlreadyDone):
        cw.record_outcome("cm", "CPC-1", "reconvene", cw.view("cm", "CPC-1").version)


def test_meeting_end_starts_the_window_and_link_needs_the_chair(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, _store, _clock = world
    with pytest.raises(NotEntitled):
        cw.link_chat("pc", "CPC-1", "19:meeting_abc@thread.v2")
    cw.link_chat("chair", "CPC-1", "19:meeting_abc@thread.v2")
    changed = cw.meeting_event("19:meeting_abc@thread.v2", False, parse_time("2026-12-17T15:30"))
    assert changed is not None
    assert {n.person_id for n in changed.notices} == {"pc", "nurse"}
    due = cw.window_due(cw.conference("CPC-1"))
    assert due is not None and due.isoformat() == "2026-12-20T15:30:00+00:00"
    assert cw.meeting_event("19:meeting_abc@thread.v2", False, parse_time("2026-12-17T16:00")) is None
    # In the linked chat a dissent needs no reference.
    r = cw.raise_dissent("pc", None, "Threshold for a plan is not met", "19:meeting_abc@thread.v2")
    assert r.conference.reference == "CPC-1"


def test_deadlines_for_the_reviewing_manager(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, _store, _clock = world
    assert cw.deadlines_for("hos") == []
    cw.raise_dissent("pc", "CPC-1", "Threshold for a plan is not met")
    items = cw.deadlines_for("hos")
    assert [(i.reference, i.deadline.rule.id) for i in items] == [("CPC-1", "dissent-decision")]


def test_replan_open_cases_extends_overdue_reminders_of_idle_cases(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, store, clock = world
    cw.raise_dissent("pc", "CPC-1", "Threshold for a plan is not met")
    # Decision due end of Tue 5 Jan 2027; the tenth overdue card is Mon 1 Feb 09:00 (see test_reminders).
    key = "dissent-decision"

    def last_planned() -> datetime:
        return max(r.send_at for r in store.reminders_for("CPC-1") if r.rule_id == key and r.person_id == "hos")

    assert last_planned() == parse_time("2027-02-01T09:00")
    clock.set("2027-03-01T06:30")
    assert cw.replan_open_cases() == 1
    assert last_planned() > parse_time("2027-03-01T09:00")


def test_the_stored_complaint_stage_follows_its_steps(world: tuple[Casework, SqlStore, Clock]) -> None:
    cw, store, clock = world
    clock.set("2027-01-20T12:00")
    cw.record_complaint("cm", "CPC-1", parse_time("2026-12-23T10:00"), "parent", "decision", "")
    assert [c.stage for c in store.complaints_for("CPC-1")] == ["stage1"]
    for event, at in [
        ("stage1_meeting_held", "2027-01-05T10:00"),
        ("stage1_response_sent", "2027-01-08T10:00"),
    ]:
        cw.record_step("cm", "CPC-1", "stage2", event, parse_time(at), cw.view("cm", "CPC-1").version)
    assert [c.stage for c in store.complaints_for("CPC-1")] == ["stage1"]
    v = cw.view("cm", "CPC-1").version
    cw.record_step("cm", "CPC-1", "stage2", "stage2_requested", parse_time("2027-01-12T10:00"), v)
    assert [c.stage for c in store.complaints_for("CPC-1")] == ["stage2"]
    for event, at in [("stage2_meeting_held", "2027-01-14T10:00"), ("stage2_letter_sent", "2027-01-15T10:00")]:
        cw.record_step("cm", "CPC-1", "stage2", event, parse_time(at), cw.view("cm", "CPC-1").version)
    v = cw.view("cm", "CPC-1").version
    cw.record_step("cm", "CPC-1", "panel", "stage3_requested", parse_time("2027-01-19T10:00"), v)
    assert [c.stage for c in store.complaints_for("CPC-1")] == ["panel"]
    # The outcome follows the panel's letter (001 5.7.30-5.7.32).
    for event in ("panel_held", "panel_letter_sent"):
        cw.record_step("cm", "CPC-1", "panel", event, parse_time("2027-01-20T10:00"), cw.view("cm", "CPC-1").version)
    cw.record_outcome("cm", "CPC-1", "confirmed", cw.view("cm", "CPC-1").version, EXPLANATION)
    assert [c.stage for c in store.complaints_for("CPC-1")] == ["closed:confirmed"]


def test_references_by_the_area_pattern_at_registration_and_lookup(world: tuple[Casework, SqlStore, Clock]) -> None:
    from dataclasses import replace

    from casework.references import BadReference

    cw, store, _clock = world
    lbh = r"^LBH/\d{4}/\d{3}$"
    areas = {k: replace(a, reference_pattern=lbh) if k == "london" else a for k, a in cw.areas.items()}
    mixed = Casework(store, areas, cw.now)
    # Registered against its own area's form: London takes LBH/..., Sussex CPC-...
    assert mixed.register_conference("cli", Conference("lbh/2024/001", "london", "initial")).reference == "LBH/2024/001"
    with pytest.raises(BadReference, match=r"references match the pattern \^LBH"):
        mixed.register_conference("cli", Conference("CPC-2", "london", "initial"))
    with pytest.raises(BadReference, match="look like CPC- followed by digits"):
        mixed.register_conference("cli", Conference("LBH/2024/002", "sussex", "initial"))
    assert store.get_conference("CPC-2") is None and store.get_conference("LBH/2024/002") is None
    # Typed before the area is known: any area's form will do, a name none.
    assert mixed.conference("lbh/2024/001").area == "london"
    assert mixed.conference("cpc-1").area == "sussex"
    with pytest.raises(BadReference):
        mixed.conference("SMITH-2015")
    # An authority that changes its form everywhere: its recorded cases are still served by what the
    # system does on its own (reminders, notices), though the old reference is refused when typed.
    only_lbh = Casework(store, {k: replace(a, reference_pattern=lbh) for k, a in cw.areas.items()}, cw.now)
    with pytest.raises(BadReference):
        only_lbh.view("chair", "CPC-1")
    assert only_lbh.recorded_conference("CPC-1").area == "sussex"
    assert only_lbh.system_view("CPC-1").conference.reference == "CPC-1"
    only_lbh.replan_reminders("CPC-1")
    # The morning replan reads open cases only: CPC-1 (its dissent window runs), not the new LBH case,
    # which has nothing started yet.
    assert store.open_cases_in() == ["CPC-1"]
    assert only_lbh.replan_open_cases() == 1
