"""The reminder plan (casework/reminders.py): which reminders, to whom, when, with a fixed clock.

Every date below is worked out by hand in the comment beside it (England and Wales bank holidays).
Times are UTC: 09:00 Europe/London is 09:00 UTC in winter (GMT) and 08:00 UTC in summer (BST).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from casework.clock import parse_time
from casework.events import Event
from casework.packs import Area, build_area
from casework.reminders import (
    NOTIFIED,
    PENDING,
    SKIPPED,
    CasePlan,
    Recipients,
    plan_case,
    reminder_key,
)
from casework.timeline import evaluate

PEOPLE = Recipients(
    chair="chair",
    attendees=("pc", "nurse"),
    by_role={"head_of_safeguarding": ("hos",), "complaints_manager": ("cm",), "chair": ("other-chair",)},
    managers={"hos": "hos-manager", "chair": "chair-manager", "pc": None},
)


def plan(area: Area, process: str, now: str, **kw: Any) -> CasePlan:
    """The plan as at ``now``; ``expected``, ``notified`` and ``recipients`` may be given, every other
    keyword is an event and its (Europe/London) time."""
    expected: frozenset[str] = kw.pop("expected", frozenset())
    notified: frozenset[tuple[str, str, str]] = kw.pop("notified", frozenset())
    recipients: Recipients = kw.pop("recipients", PEOPLE)
    at = parse_time(now)
    tl = evaluate(area, process, [Event(k, parse_time(v)) for k, v in kw.items()], at)
    return plan_case("CPC-1", area.id, area.calendar, [tl], area.reminders, recipients, at, expected, notified)


def rows(p: CasePlan, rule: str) -> list[tuple[str, str, str, str]]:
    """(UTC time, kind, person, state) for one rule, soonest first."""
    return sorted(
        (r.send_at.strftime("%Y-%m-%d %H:%M"), r.kind, r.person_id, r.state) for r in p.reminders if r.rule_id == rule
    )


# Sussex dissent: conference Thu 17 Dec 2026, dissent raised Fri 18 Dec. The reviewing manager's decision
# is due within 10 working days of the conference (001 5.7.7(4)): Fri 18 (1), Mon 21 (2), Tue 22 (3),
# Wed 23 (4), Thu 24 (5), [Fri 25 Christmas, Mon 28 Boxing Day substitute], Tue 29 (6), Wed 30 (7),
# Thu 31 (8), [Fri 1 Jan New Year], Mon 4 Jan (9), Tue 5 Jan 2027 (10): due end of Tue 5 Jan.
DISSENT = {"conference_held": "2026-12-17T14:00", "conference_ended": "2026-12-17T15:45"}


def test_a_duty_gets_cards_5_2_1_days_before_on_the_day_then_overdue_to_the_manager(areas: dict[str, Area]) -> None:
    p = plan(areas["sussex"], "dissent", "2026-12-18T10:00", dissent_raised="2026-12-18T10:00", **DISSENT)
    assert rows(p, "dissent-decision") == [
        # 5 working days before Tue 5 Jan: Mon 4 (1), Thu 31 (2), Wed 30 (3), Tue 29 (4), Thu 24 Dec (5);
        # the bank holidays of 25 and 28 Dec and 1 Jan are skipped.
        ("2026-12-24 09:00", "before-5", "hos", PENDING),
        ("2026-12-31 09:00", "before-2", "hos", PENDING),  # Mon 4 (1), Thu 31 Dec (2)
        ("2027-01-04 09:00", "before-1", "hos", PENDING),
        ("2027-01-05 09:00", "due", "hos", PENDING),
        # Overdue: the next working day, Wed 6 Jan, then every 2 working days: Fri 8, Tue 12, Thu 14 ...
        ("2027-01-06 09:00", "overdue-1", "hos", PENDING),
        ("2027-01-06 09:00", "overdue-1", "hos-manager", PENDING),
        ("2027-01-08 09:00", "overdue-2", "hos", PENDING),
        ("2027-01-08 09:00", "overdue-2", "hos-manager", PENDING),
        ("2027-01-12 09:00", "overdue-3", "hos", PENDING),
        ("2027-01-12 09:00", "overdue-3", "hos-manager", PENDING),
        *[(t, k, who, PENDING) for t, k in _later_overdue() for who in ("hos", "hos-manager")],
    ]
    assert {r.audience for r in p.reminders if r.person_id == "hos-manager"} == {"line_manager"}
    assert all(r.due is not None and r.due.isoformat() == "2027-01-05T23:59:59+00:00" for r in p.reminders)


def _later_overdue() -> list[tuple[str, str]]:
    # Every 2 working days after Tue 12 Jan 2027 (no bank holidays until Good Friday 26 Mar):
    # Thu 14, Mon 18, Wed 20, Fri 22, Tue 26, Thu 28 Jan, Mon 1 Feb: overdue-4 to overdue-10.
    days = ["14", "18", "20", "22", "26", "28"]
    out = [(f"2027-01-{d} 09:00", f"overdue-{i + 4}") for i, d in enumerate(days)]
    return [*out, ("2027-02-01 09:00", "overdue-10")]


def test_nothing_is_planned_once_the_deadline_is_met(areas: dict[str, Area]) -> None:
    p = plan(
        areas["sussex"],
        "dissent",
        "2026-12-30T12:00",
        dissent_raised="2026-12-18T10:00",
        dissent_not_upheld="2026-12-30T11:00",
        **DISSENT,
    )
    assert rows(p, "dissent-decision") == []
    assert "dissent-decision" in p.met_rules
    # A window is each attendee's right: one dissent does not turn the others' cards into "done".
    assert "dissent-window" not in p.met_rules


def test_a_duty_not_yet_applicable_has_no_reminders(areas: dict[str, Area]) -> None:
    # The decision applies only once a dissent is raised (001 5.7.7(3)).
    assert rows(plan(areas["sussex"], "dissent", "2026-12-18T10:00", **DISSENT), "dissent-decision") == []


# Complaint received Thu 18 Mar 2027; Stage 1 meeting within 10 working days (001 5.7.14): Fri 19 (1),
# Mon 22 (2), Tue 23 (3), Wed 24 (4), Thu 25 (5), [Fri 26 Good Friday, Mon 29 Easter Monday], Tue 30 (6),
# Wed 31 (7), Thu 1 Apr (8), Fri 2 (9), Mon 5 Apr (10): due end of Mon 5 Apr 2027. The clocks go forward
# on Sun 28 Mar 2027, between the first reminder and the rest.
SPRING = {"conference_held": "2027-03-08T10:00", "complaint_received": "2027-03-18T10:00"}


def test_reminders_across_easter_and_the_spring_clock_change(areas: dict[str, Area]) -> None:
    p = plan(areas["sussex"], "complaint", "2027-03-18T10:00", **SPRING)
    assert rows(p, "stage1-meeting")[:6] == [
        # 5 before Mon 5 Apr: Fri 2 (1), Thu 1 (2), Wed 31 (3), Tue 30 (4), Thu 25 Mar (5): 09:00 GMT.
        ("2027-03-25 09:00", "before-5", "chair", PENDING),
        ("2027-04-01 08:00", "before-2", "chair", PENDING),  # 09:00 BST
        ("2027-04-02 08:00", "before-1", "chair", PENDING),
        ("2027-04-05 08:00", "due", "chair", PENDING),
        ("2027-04-06 08:00", "overdue-1", "chair", PENDING),  # the next working day, Tue 6 Apr
        ("2027-04-06 08:00", "overdue-1", "chair-manager", PENDING),
    ]


# Complaint received Tue 19 Oct 2027; Stage 1 meeting within 10 working days: Wed 20 (1), Thu 21 (2),
# Fri 22 (3), Mon 25 (4), Tue 26 (5), Wed 27 (6), Thu 28 (7), Fri 29 (8), Mon 1 Nov (9), Tue 2 Nov (10).
# The clocks go back on Sun 31 Oct 2027.
AUTUMN = {"conference_held": "2027-10-04T10:00", "complaint_received": "2027-10-19T10:00"}


def test_reminders_across_the_autumn_clock_change(areas: dict[str, Area]) -> None:
    p = plan(areas["sussex"], "complaint", "2027-10-19T10:00", **AUTUMN)
    assert rows(p, "stage1-meeting")[:5] == [
        ("2027-10-26 08:00", "before-5", "chair", PENDING),  # Mon 1 Nov (1), Fri 29 (2) ... Tue 26 (5): BST
        ("2027-10-29 08:00", "before-2", "chair", PENDING),  # Fri 29 Oct, still BST
        ("2027-11-01 09:00", "before-1", "chair", PENDING),  # Mon 1 Nov, GMT
        ("2027-11-02 09:00", "due", "chair", PENDING),
        ("2027-11-03 09:00", "overdue-1", "chair", PENDING),
    ]


def test_the_dissent_window_opens_with_a_card_to_every_attendee_and_nothing_after_it_closes(
    areas: dict[str, Area],
) -> None:
    # 72 elapsed hours from the end of the conference (001 5.7.4): Thu 17 Dec 15:45 to Sun 20 Dec 15:45.
    p = plan(areas["sussex"], "dissent", "2026-12-17T15:45", **DISSENT)
    assert rows(p, "dissent-window") == [
        ("2026-12-17 15:45", "opened", "nurse", PENDING),
        ("2026-12-17 15:45", "opened", "pc", PENDING),
    ]
    closed = plan(areas["sussex"], "dissent", "2026-12-20T15:46", **DISSENT)
    assert rows(closed, "dissent-window") == []


def test_a_running_meeting_opens_the_window_at_its_end_not_its_start(areas: dict[str, Area]) -> None:
    started = {"conference_held": "2026-12-17T14:00"}
    waiting = plan(areas["sussex"], "dissent", "2026-12-17T14:05", expected=frozenset({"conference_ended"}), **started)
    assert rows(waiting, "dissent-window") == []
    # Without a linked meeting to report the end, the start is the only anchor the procedure gives.
    assert [r[:2] for r in rows(plan(areas["sussex"], "dissent", "2026-12-17T14:05", **started), "dissent-window")] == [
        ("2026-12-17 14:00", "opened"),
        ("2026-12-17 14:00", "opened"),
    ]


def test_attendees_told_by_the_meeting_end_notice_are_not_told_again(areas: dict[str, Area]) -> None:
    told = frozenset({("dissent-window", "opened", "pc")})
    p = plan(areas["sussex"], "dissent", "2026-12-17T15:45", notified=told, **DISSENT)
    assert rows(p, "dissent-window") == [
        ("2026-12-17 15:45", "opened", "nurse", PENDING),
        ("2026-12-17 15:45", "opened", "pc", NOTIFIED),
    ]


def test_catching_up_sends_the_latest_missed_reminder_not_a_burst(areas: dict[str, Area]) -> None:
    # Planned first on Mon 4 Jan 10:00: before-5 (24 Dec), before-2 (31 Dec) and before-1 (4 Jan 09:00)
    # have all passed; only before-1 is still to send.
    p = plan(areas["sussex"], "dissent", "2027-01-04T10:00", dissent_raised="2026-12-18T10:00", **DISSENT)
    assert rows(p, "dissent-decision")[:4] == [
        ("2026-12-24 09:00", "before-5", "hos", SKIPPED),
        ("2026-12-31 09:00", "before-2", "hos", SKIPPED),
        ("2027-01-04 09:00", "before-1", "hos", PENDING),
        ("2027-01-05 09:00", "due", "hos", PENDING),
    ]


def test_a_moved_date_gives_new_moments_and_new_keys(areas: dict[str, Area]) -> None:
    # The Stage 2 meeting is due 28 days after the request (001 5.7.18-5.7.19): a later request moves it.
    base = {**SPRING, "stage1_meeting_held": "2027-03-22T10:00", "stage1_response_sent": "2027-03-24T10:00"}
    first = plan(areas["sussex"], "complaint", "2027-04-01T10:00", stage2_requested="2027-04-01T09:00", **base)
    later = plan(areas["sussex"], "complaint", "2027-04-01T10:00", stage2_requested="2027-04-01T09:30", **base)
    assert {r.key for r in first.reminders if r.rule_id == "stage2-meeting"}
    # Same day, so the same moments: the same keys (nothing is planned twice).
    assert {r.key for r in first.reminders} == {r.key for r in later.reminders}
    moved = plan(areas["sussex"], "complaint", "2027-04-06T10:00", stage2_requested="2027-04-06T09:00", **base)
    a = {r.key for r in first.reminders if r.rule_id == "stage2-meeting"}
    b = {r.key for r in moved.reminders if r.rule_id == "stage2-meeting"}
    assert a and b and not a & b


def test_complaint_windows_remind_the_chair_and_the_complaints_manager(areas: dict[str, Area]) -> None:
    # Stage 3 may be asked for within 20 working days of the Stage 2 letter (001 5.7.23) or 28 days
    # (5.7.21), the sooner: letter Mon 1 Feb 2027; 20 working days (no bank holidays in February) and
    # 28 days both end on Mon 1 Mar 2027. One working day before: Fri 26 Feb.
    events = {
        "conference_held": "2027-01-04T10:00",
        "complaint_received": "2027-01-05T10:00",
        "stage1_meeting_held": "2027-01-11T10:00",
        "stage1_response_sent": "2027-01-12T10:00",
        "stage2_requested": "2027-01-18T10:00",
        "stage2_meeting_held": "2027-01-27T10:00",
        "stage2_letter_sent": "2027-02-01T10:00",
    }
    p = plan(areas["sussex"], "complaint", "2027-02-01T10:00", **events)
    assert rows(p, "stage3-request-window") == [
        ("2027-02-01 10:00", "opened", "chair", PENDING),
        ("2027-02-01 10:00", "opened", "cm", PENDING),
        ("2027-02-26 09:00", "before-1", "chair", PENDING),
        ("2027-02-26 09:00", "before-1", "cm", PENDING),
    ]
    assert not any(r.kind.startswith("overdue") for r in p.reminders if r.rule_id == "stage3-request-window")


def test_a_conference_without_a_chair_reminds_the_areas_chairs(areas: dict[str, Area]) -> None:
    no_chair = Recipients(None, (), {"chair": ("other-chair",)}, {})
    p = plan(areas["sussex"], "complaint", "2027-03-18T10:00", recipients=no_chair, **SPRING)
    assert {r.person_id for r in p.reminders if r.rule_id == "stage1-meeting"} == {"other-chair"}


def test_the_key_is_stable_and_names_every_part() -> None:
    at = parse_time("2027-01-04T09:00")
    k = reminder_key("CPC-1", "dissent-decision", "hos", at, "before-1")
    assert k == reminder_key("CPC-1", "dissent-decision", "hos", at.astimezone(), "before-1")
    others = {
        reminder_key("CPC-2", "dissent-decision", "hos", at, "before-1"),
        reminder_key("CPC-1", "dissent-window", "hos", at, "before-1"),
        reminder_key("CPC-1", "dissent-decision", "pc", at, "before-1"),
        reminder_key("CPC-1", "dissent-decision", "hos", parse_time("2027-01-04T09:01"), "before-1"),
        reminder_key("CPC-1", "dissent-decision", "hos", at, "due"),
    }
    assert k not in others and len(others) == 5


# ------------------------------------------------------------------------------- pack overrides


def child(areas: dict[str, Area], reminders: Any) -> tuple[Area | None, list[str]]:
    raw = {"area": {"id": "testshire", "name": "Testshire", "seed": "x.txt", "extends": "sussex"}}
    if reminders is not None:
        raw["reminders"] = reminders
    area, errors = build_area(raw, "testshire.toml", areas["sussex"])
    return area, [str(e) for e in errors]


def test_an_area_overrides_the_plans_in_its_pack(areas: dict[str, Area]) -> None:
    area, errors = child(
        areas,
        {
            "time": "08:30",
            "duty": {"before": [3], "on_due_day": False, "overdue_repeats": 2},
            "rules": {"dissent-decision": {"before": [1]}},
        },
    )
    assert errors == [] and area is not None
    p = plan(area, "dissent", "2026-12-18T10:00", dissent_raised="2026-12-18T10:00", **DISSENT)
    assert [r[:3] for r in rows(p, "dissent-decision")] == [
        ("2027-01-04 08:30", "before-1", "hos"),  # the rule's own list; no due-day card (the area's duty plan)
        ("2027-01-06 08:30", "overdue-1", "hos"),
        ("2027-01-06 08:30", "overdue-1", "hos-manager"),
        ("2027-01-08 08:30", "overdue-2", "hos"),  # two overdue cards at most
        ("2027-01-08 08:30", "overdue-2", "hos-manager"),
    ]
    # Other duties follow the area's duty plan: 3 working days before Tue 5 Jan is Wed 30 Dec.
    assert area.reminders.plans["duty"].before == (3,)


def test_a_pack_without_reminders_inherits_its_parents(areas: dict[str, Area]) -> None:
    area, errors = child(areas, None)
    assert errors == [] and area is not None
    assert area.reminders == areas["sussex"].reminders


@pytest.mark.parametrize(
    ("reminders", "key", "expected"),
    [
        ({"time": "9am"}, "reminders.time", "a time of day HH:MM"),
        ({"duty": {"before": "5"}}, "reminders.duty.before", "a list of whole numbers"),
        ({"duty": {"before": [0]}}, "reminders.duty.before", "between 1 and 60"),
        ({"duty": {"bogus": 1}}, "reminders.duty.bogus", "no such key"),
        ({"window": {"on_open": "yes"}}, "reminders.window.on_open", "true or false"),
        ({"duty": {"copy_to": ["mayor"]}}, "reminders.duty.copy_to", "a list of roles"),
        ({"duty": {"overdue_every": -1}}, "reminders.duty.overdue_every", "between 0 and 100"),
        ({"rules": {"no-such-rule": {}}}, "reminders.rules.no-such-rule", "the id of one of this area's rules"),
        ({"monthly": {}}, "reminders.monthly", "no such key"),
        ("often", "reminders", "a table [reminders]"),
    ],
)
def test_bad_reminder_settings_name_the_file_the_key_and_what_was_expected(
    areas: dict[str, Area], reminders: Any, key: str, expected: str
) -> None:
    area, errors = child(areas, reminders)
    assert area is None
    assert any(e.startswith(f"testshire.toml: {key}: expected") and expected in e for e in errors), errors


def test_every_shipped_pack_plans_without_error(areas: dict[str, Area]) -> None:
    now = datetime.fromisoformat("2027-01-04T10:00:00+00:00")
    for area in areas.values():
        for process in area.processes:
            tl = evaluate(area, process, [], now)
            assert plan_case("CPC-1", area.id, area.calendar, [tl], area.reminders, PEOPLE, now).reminders == ()


def test_overdue_reminders_continue_until_met(areas: dict[str, Area]) -> None:
    sussex = areas["sussex"]
    # Decision due end of Tue 5 Jan 2027 (above). Overdue cards from the next working day, then every
    # 2 working days: Wed 6 (1), Fri 8 (2), Tue 12 (3), Thu 14 (4), Mon 18 (5), Wed 20 (6), Fri 22 (7),
    # Tue 26 (8), Thu 28 Jan (9), Mon 1 Feb (10): the ten planned ahead before the due date.
    before = plan(sussex, "dissent", "2027-01-04T08:00", **DISSENT, dissent_raised="2026-12-18T10:00")
    first_ten = sorted(
        r.send_at
        for r in before.reminders
        if r.rule_id == "dissent-decision" and r.person_id == "hos" and r.kind.startswith("overdue")
    )
    assert len(first_ten) == 10 and first_ten[-1] == parse_time("2027-02-01T09:00")
    # Replanned on Mon 1 Mar 2027 at 08:00, still unmet: the series goes on, Wed 3 Feb (11), Fri 5 (12),
    # Tue 9 (13), Thu 11 (14), Mon 15 (15), Wed 17 (16), Fri 19 (17), Tue 23 (18), Thu 25 (19),
    # Mon 1 Mar 09:00 (20): the first of ten still ahead of that morning.
    now = parse_time("2027-03-01T08:00")
    later = plan(sussex, "dissent", "2027-03-01T08:00", **DISSENT, dissent_raised="2026-12-18T10:00")
    overdue = sorted(
        (r.send_at, r.state)
        for r in later.reminders
        if r.rule_id == "dissent-decision" and r.person_id == "hos" and r.kind.startswith("overdue")
    )
    ahead = [t for t, _state in overdue if t > now]
    assert len(ahead) == 10
    assert ahead[0] == parse_time("2027-03-01T09:00")
    assert all(state == PENDING for t, state in overdue if t > now)
    # Met: nothing more is planned for it.
    met = plan(
        sussex,
        "dissent",
        "2027-03-01T08:00",
        **DISSENT,
        dissent_raised="2026-12-18T10:00",
        dissent_not_upheld="2027-02-20T10:00",
    )
    assert [r for r in met.reminders if r.rule_id == "dissent-decision"] == []
