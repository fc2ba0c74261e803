"""The second pass over the seeds' timescales (issue item 7), dated by hand. Each comment shows the count.

London Child Protection Procedures 8.9.10: an initial conference should last no more than two hours and
a review no more than one and a half: a **flag**, shown when exceeded, never anyone's duty or reminder.
8.10.18: a child in need plan is reviewed at intervals of no more than six months after the child
protection plan ends. Calendar months clamp to the month's last day; hours and minutes are elapsed time.
Clocks: BST ends Sun 25 Oct 2026, starts Sun 28 Mar 2027 and ends Sun 31 Oct 2027.
"""

from __future__ import annotations

from typing import Any

import pytest

from casework.clock import parse_time
from casework.duties import purpose
from casework.errors import MalformedPeriod
from casework.events import Event
from casework.packs import Area, build_area
from casework.periods import Period, parse_period
from casework.reminder_plans import NO_REMINDERS
from casework.reminders import Recipients, plan_case
from casework.timeline import evaluate
from tests.unit.conftest import Run, due

FLAGS = ("initial-conference-length", "review-conference-length")

# ---------------------------------------------------------------- 8.9.10: how long a conference lasts


def test_initial_conference_over_two_hours_is_flagged(run: Run) -> None:
    # Tue 1 Dec 2026 10:00 GMT + 2 elapsed hours = 12:00 GMT. Ended 12:30: 30 minutes over.
    tl = run("london", "conference", conference_held="2026-12-01T10:00", conference_ended="2026-12-01T12:30")
    d = tl.get("initial-conference-length")
    assert due(tl, "initial-conference-length") == "2026-12-01T12:00:00+00:00"
    assert d.status == "late"
    assert d.as_dict()["flagged"] is True
    assert d.as_dict()["kind"] == "flag"
    assert d.as_dict()["completed"] == "2026-12-01T12:30:00+00:00"
    assert "2 hours elapsed, to Tue 1 Dec 2026 12:00 GMT" in d.explanation


def test_initial_conference_within_two_hours_is_not_flagged(run: Run) -> None:
    # 10:00 to 11:45 GMT is 1 h 45 min, inside the 2 hours (limit 12:00 GMT).
    tl = run("london", "conference", conference_held="2026-12-01T10:00", conference_ended="2026-12-01T11:45")
    d = tl.get("initial-conference-length")
    assert d.status == "met"
    assert d.as_dict()["flagged"] is False


def test_exactly_two_hours_is_within_the_limit(run: Run) -> None:
    # 10:00 to 12:00 GMT is exactly 2 hours: "no more than two hours".
    tl = run("london", "conference", conference_held="2026-12-01T10:00", conference_ended="2026-12-01T12:00")
    assert tl.get("initial-conference-length").status == "met"


def test_a_flag_is_not_judged_until_the_end_is_recorded(run: Run) -> None:
    # Held Tue 1 Dec 2026 10:00 GMT, no end recorded; a day later the 12:00 limit has passed, but
    # without the end nobody knows how long it lasted: waiting, never "missed".
    tl = run("london", "conference", now="2026-12-02T10:00", conference_held="2026-12-01T10:00")
    d = tl.get("initial-conference-length")
    assert due(tl, "initial-conference-length") == "2026-12-01T12:00:00+00:00"
    assert d.status == "waiting"
    assert d.as_dict()["flagged"] is False


def test_prebirth_conference_is_an_initial_conference(run: Run) -> None:
    # 8.14.1: a pre-birth conference is an initial conference. Mon 11 Jan 2027 10:00 GMT + 2 h = 12:00 GMT;
    # ended 12:15: flagged.
    tl = run(
        "london",
        "conference",
        prebirth_conference_held="2027-01-11T10:00",
        conference_ended="2027-01-11T12:15",
    )
    d = tl.get("initial-conference-length")
    assert due(tl, "initial-conference-length") == "2027-01-11T12:00:00+00:00"
    assert d.status == "late" and d.as_dict()["flagged"] is True


def test_review_over_one_and_a_half_hours_is_flagged(run: Run) -> None:
    # Initial conference Tue 2 Mar 2027 10:00-11:50 GMT: 1 h 50 min, within 2 hours (limit 12:00 GMT).
    # Review Wed 2 Jun 2027 14:00 BST + 1½ elapsed hours (90 minutes) = 15:30 BST; ended 15:45 BST: over.
    tl = run(
        "london",
        "conference",
        conference_held="2027-03-02T10:00",
        review_held="2027-06-02T14:00",
        conference_ended=["2027-03-02T11:50", "2027-06-02T15:45"],
    )
    initial, review = tl.get("initial-conference-length"), tl.get("review-conference-length")
    assert initial.status == "met" and initial.as_dict()["completed"] == "2027-03-02T11:50:00+00:00"
    assert due(tl, "review-conference-length") == "2027-06-02T15:30:00+01:00"
    assert review.status == "late" and review.as_dict()["flagged"] is True
    assert review.as_dict()["completed"] == "2027-06-02T15:45:00+01:00"
    assert "1½ hours elapsed, to Wed 2 Jun 2027 15:30 BST" in review.explanation


def test_review_of_exactly_ninety_minutes_is_not_flagged(run: Run) -> None:
    # Wed 2 Jun 2027 14:00 to 15:30 BST is exactly 1½ hours.
    tl = run(
        "london",
        "conference",
        conference_held="2027-03-02T10:00",
        review_held="2027-06-02T14:00",
        conference_ended="2027-06-02T15:30",
    )
    assert tl.get("review-conference-length").status == "met"


def test_the_latest_review_is_judged(run: Run) -> None:
    # Review 1: Mon 1 Mar 2027 10:00-12:00 GMT (2 h, over 1½). Review 2: Wed 1 Sep 2027 10:00-11:15 BST
    # (1 h 15 min; limit 11:30 BST): the flag is on the latest review, which was within the limit.
    tl = run(
        "london",
        "conference",
        conference_held="2026-12-01T10:00",
        review_held=["2027-03-01T10:00", "2027-09-01T10:00"],
        conference_ended=["2027-03-01T12:00", "2027-09-01T11:15"],
    )
    assert due(tl, "review-conference-length") == "2027-09-01T11:30:00+01:00"
    assert tl.get("review-conference-length").status == "met"


def test_a_later_meetings_end_does_not_judge_the_initial_conference(run: Run) -> None:
    # Initial Tue 1 Dec 2026 10:00 GMT with no end recorded; the review on Mon 1 Mar 2027 10:00 GMT ended
    # 11:00. That end closes the review (the latest meeting started before it), not the initial conference:
    # the initial conference's flag stays unjudged instead of reading three months as an overrun.
    tl = run(
        "london",
        "conference",
        now="2027-03-02T09:00",
        conference_held="2026-12-01T10:00",
        review_held="2027-03-01T10:00",
        conference_ended="2027-03-01T11:00",
    )
    assert tl.get("initial-conference-length").status == "waiting"
    assert tl.get("initial-conference-length").as_dict()["flagged"] is False
    assert tl.get("review-conference-length").status == "met"


# ---------------------------------------------------------------- a flag is nobody's work

PEOPLE = Recipients(chair="chair", attendees=("sw", "pc"), by_role={}, managers={"chair": "chair-manager"})


def _plan(area: Area, now: str, **events: str) -> set[str]:
    at = parse_time(now)
    tl = evaluate(area, "conference", [Event(k, parse_time(v)) for k, v in events.items()], at)
    plan = plan_case("CPC-1", area.id, area.calendar, [tl], area.reminders, PEOPLE, at)
    return {r.rule_id for r in plan.reminders}


def test_a_flag_makes_no_reminder(areas: dict[str, Area]) -> None:
    london = areas["london"]
    # During the conference (10:00 GMT, now 11:00), after it overran (ended 12:30, now 13:00) and long after.
    running = _plan(london, "2026-12-01T11:00", conference_held="2026-12-01T10:00")
    overran = _plan(london, "2026-12-01T13:00", conference_held="2026-12-01T10:00", conference_ended="2026-12-01T12:30")
    later = _plan(london, "2027-01-04T09:00", conference_held="2026-12-01T10:00", conference_ended="2026-12-01T12:30")
    for rule_ids in (running, overran, later):
        assert "decision-letter" in rule_ids  # the plan is not empty: the chair's duties are reminded
        assert not set(FLAGS) & rule_ids
    for rid in FLAGS:
        rule = london.rule(rid)
        assert rule is not None and rule.kind == "flag"
        assert london.reminders.plan_for(rule) == NO_REMINDERS
        assert purpose(london, rule) == "none"  # no "Mark done": nothing for a person to do


def test_pack_refuses_reminders_for_a_flag() -> None:
    raw = {
        "area": {"id": "x", "name": "X", "nation": "ENG", "seed": "004_974a7b50b4cfbdbf.txt"},
        "rules": [_flag_rule()],
        "reminders": {"rules": {"f1": {"before": [1]}}},
    }
    _, errs = build_area(raw, "x.toml")
    assert any("reminders.rules.f1: expected" in str(e) and "never reminded" in str(e) for e in errs), errs


def _flag_rule(**change: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "f1",
        "process": "conference",
        "kind": "flag",
        "title": "t",
        "within": "2 hours",
        "of": "conference_held",
        "completed_by": "conference_ended",
        "responsible": "chair",
        "source": "004_974a7b50b4cfbdbf.txt 8.9.10",
    }
    rule.update(change)
    return rule


def _errors(rule: dict[str, Any]) -> list[str]:
    raw = {"area": {"id": "x", "name": "X", "nation": "ENG", "seed": "004"}, "rules": [rule]}
    _, errs = build_area(raw, "x.toml")
    return [str(e) for e in errs]


def test_flag_rules_are_validated() -> None:
    assert _errors(_flag_rule()) == []
    before = _flag_rule(before="2 days")
    del before["within"]
    for bad in (before, _flag_rule(extended="3 hours", extension_event="review_held"), _flag_rule(or_within=[])):
        assert any("rules[f1].within: expected" in e and "for a flag" in e for e in _errors(bad))
    untimed = _flag_rule(timescale="briefly")
    del untimed["within"]
    assert any("for a flag" in e for e in _errors(untimed))


def test_a_flags_hours_are_elapsed_hours_even_where_hours_mean_working_days() -> None:
    # An area whose "72 hours" mean working days still measures a meeting's 2 hours on the clock.
    area, errs = build_area(
        {
            "area": {"id": "x", "name": "X", "nation": "ENG", "seed": "004", "hours_mean_working_days": True},
            "rules": [_flag_rule()],
        },
        "x.toml",
    )
    assert errs == [] and area is not None
    assert area.rules[0].candidates[0].period == Period(120, "minutes", "2 hours")
    tl = evaluate(
        area, "conference", [Event("conference_held", parse_time("2026-12-01T10:00"))], parse_time("2026-12-01T10:30")
    )
    assert tl.get("f1").as_dict()["due"] == "2026-12-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("1½ hours", Period(90, "minutes", "1½ hours")),
        ("90 minutes", Period(90, "minutes", "90 minutes")),
        ("1 minute", Period(1, "minutes", "1 minute")),
        ("2 hours", Period(2, "hours", "2 hours")),
    ],
)
def test_minutes_and_half_hours(text: str, period: Period) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["1½ days", "½ hours", "1.5 hours", "2½ working days"])
def test_halves_only_of_hours(text: str) -> None:
    with pytest.raises(MalformedPeriod):
        parse_period(text)


# ---------------------------------------------------------------- 8.10.18: the child in need plan


def test_cin_plan_review_six_months_from_plan_end_clamped_to_february(run: Run) -> None:
    # Child protection plan ended Mon 31 Aug 2026; the child in need plan made Fri 4 Sep 2026.
    # 31 Aug 2026 + 6 months = 31 Feb 2027, clamped to the month's last day: Sun 28 Feb 2027 (not a
    # leap year), end of day GMT. Calendar months: the weekend is not skipped.
    tl = run(
        "london",
        "conference",
        now="2026-09-07T09:00",
        cp_plan_ended="2026-08-31T11:30",
        cin_plan_made="2026-09-04T10:00",
    )
    d = tl.get("cin-plan-review")
    assert d.applicable and d.status == "pending"
    assert due(tl, "cin-plan-review") == "2027-02-28T23:59:59+00:00"
    assert d.rule.responsible == "professional"


def test_cin_plan_review_leap_year_clamp(run: Run) -> None:
    # Plan ended Tue 31 Aug 2027 + 6 months = 31 Feb 2028, clamped: Tue 29 Feb 2028 (2028 is a leap year).
    tl = run("london", "conference", cp_plan_ended="2027-08-31T11:30", cin_plan_made="2027-09-01T10:00")
    assert due(tl, "cin-plan-review") == "2028-02-29T23:59:59+00:00"


def test_cin_plan_review_repeats_from_the_latest_review(run: Run) -> None:
    # Plan ended Mon 31 Aug 2026 (first review due Sun 28 Feb 2027); reviewed Mon 15 Feb 2027, then
    # Thu 12 Aug 2027. Next: 12 Aug 2027 + 6 months = Sat 12 Feb 2028, end of day GMT. Each review starts
    # the next six months; the duty never closes while the plan runs.
    tl = run(
        "london",
        "conference",
        now="2027-08-13T09:00",
        cp_plan_ended="2026-08-31T11:30",
        cin_plan_made="2026-09-04T10:00",
        cin_review_held=["2027-02-15T10:00", "2027-08-12T10:00"],
    )
    d = tl.get("cin-plan-review")
    assert d.status == "pending" and d.chosen is not None and d.chosen.start_event == "cin_review_held"
    assert due(tl, "cin-plan-review") == "2028-02-12T23:59:59+00:00"


def test_cin_plan_review_missed(run: Run) -> None:
    # Plan ended Mon 31 Aug 2026, review due end of Sun 28 Feb 2027; none by Mon 1 Mar 2027: missed.
    tl = run(
        "london",
        "conference",
        now="2027-03-01T09:00",
        cp_plan_ended="2026-08-31T11:30",
        cin_plan_made="2026-09-04T10:00",
    )
    assert tl.get("cin-plan-review").status == "missed"


def test_no_cin_review_without_a_cin_plan(run: Run) -> None:
    # 8.10.18: the plan is "for any continuing support". The plan ended but no child in need plan was made:
    # dated, but not applicable, so nobody is chased.
    tl = run("london", "conference", now="2027-03-01T09:00", cp_plan_ended="2026-08-31T11:30")
    d = tl.get("cin-plan-review")
    assert not d.applicable and d.status == "waiting"


def test_child_protection_reviews_stop_when_the_plan_ends(run: Run) -> None:
    # 8.2.10: further reviews "for as long as the child remains the subject of a child protection plan".
    # Conference Tue 1 Dec 2026; first review Mon 1 Mar 2027 (within 3 months, to end of Mon 1 Mar 2027),
    # which ended the plan: no six-monthly review after it.
    events: dict[str, Any] = {"conference_held": "2026-12-01T10:00", "review_held": "2027-03-01T10:00"}
    still = run("london", "conference", **events)
    assert due(still, "later-review") == "2027-09-01T23:59:59+01:00"  # 1 Mar + 6 months = Wed 1 Sep 2027 BST
    ended = run("london", "conference", **events, cp_plan_ended="2027-03-01T11:30")
    assert "later-review" not in [d.rule.id for d in ended.deadlines]
    assert ended.get("first-review").status == "met"
