"""What ``cpc timeline`` refuses before a timeline is worked out (casework.event_checks), and the birth
order that every timeline refuses (casework.events.MUST_FOLLOW).

Pan-Sussex (001_554f9f91afccd8e1.txt): dissent within 72 hours of the conference meeting (5.7.4); the
decision within 10 working days of the conference, any reconvened conference within 15 working days of
the decision (5.7.7(4)). London (004_974a7b50b4cfbdbf.txt): the first review within one month of the
birth or three months of the pre-birth conference, whichever is sooner (8.14.12).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest

from casework.clock import parse_given, parse_time
from casework.errors import (
    EventNotUsed,
    EventOrderError,
    ReconvenedTooEarly,
    TimeOfDayNeeded,
    UnknownDiscretion,
    UnknownEvent,
)
from casework.event_checks import Given, check_discretion, check_event, check_sequence, events_used
from casework.events import Event
from casework.packs import Area
from casework.timeline import evaluate

SUSSEX = "Pan-Sussex (Brighton & Hove, East Sussex, West Sussex)"


def given(**events: str | list[str]) -> list[Given]:
    out: list[Given] = []
    for name, when in events.items():
        for w in [when] if isinstance(when, str) else when:
            at, timed = parse_given(w)
            out.append(Given(Event(name, at), timed))
    return out


def check_all(area: Area, process: str, gs: list[Given]) -> None:
    for g in gs:
        check_event(area, process, g, gs)
    check_sequence(area, process, gs)


# ---------------------------------------------------------------- (a) discretion only for a window


def test_discretion_for_an_unknown_rule_names_the_windows(areas: dict[str, Area]) -> None:
    with pytest.raises(UnknownDiscretion) as err:
        check_discretion(areas["sussex"], "dissent", ["dissent-windw"])
    assert str(err.value) == (
        f"'dissent-windw' is not a window rule of the dissent process of {SUSSEX}; discretion can be "
        "recorded only for its window rules: dissent-window"
    )


def test_discretion_for_a_duty_or_another_process_is_refused(areas: dict[str, Area]) -> None:
    with pytest.raises(UnknownDiscretion, match="'dissent-decision' is not a window rule"):
        check_discretion(areas["sussex"], "dissent", ["dissent-decision"])
    # complaint-window is a window, but of the complaint process.
    with pytest.raises(UnknownDiscretion, match=r"only for its window rules: dissent-window$"):
        check_discretion(areas["sussex"], "dissent", ["complaint-window"])
    check_discretion(areas["sussex"], "complaint", ["complaint-window", "stage3-request-window"])
    check_discretion(areas["sussex"], "dissent", ["dissent-window"])


def test_a_process_with_no_window_takes_no_discretion(areas: dict[str, Area]) -> None:
    # London's dissent (004 8.13) sets no time limit: no window rule at all.
    with pytest.raises(UnknownDiscretion, match="it has no window rule, so no discretion can be recorded"):
        check_discretion(areas["london"], "dissent", ["dissent-window"])


# ---------------------------------------------------------------- (e) an event the process does not use


def test_an_event_the_process_does_not_use_names_the_processes_that_do(areas: dict[str, Area]) -> None:
    gs = given(conference_held="2026-12-01T10:00", complaint_received="2026-12-03")
    with pytest.raises(EventNotUsed) as err:
        check_all(areas["sussex"], "dissent", gs)
    assert str(err.value) == (
        f"complaint_received is not used by the dissent process of {SUSSEX}; it is used by: complaint"
    )
    assert err.value.used_by == ("complaint",)


def test_an_event_no_process_uses(areas: dict[str, Area]) -> None:
    gs = given(conference_held="2026-12-01T10:00", expected_delivery="2027-03-01")
    with pytest.raises(EventNotUsed, match=re.escape(f"; no process of {SUSSEX} uses it")):
        check_all(areas["sussex"], "dissent", gs)


def test_context_the_process_uses_is_accepted(areas: dict[str, Area]) -> None:
    # Sussex's complaint window runs from the conference (5.7.13): conference_held is used there.
    assert "conference_held" in events_used(areas["sussex"].rules_for("complaint"))
    check_all(areas["sussex"], "complaint", given(conference_held="2026-12-01T10:00", complaint_received="2026-12-03"))
    # The reconvened conference's rule is completed by conference_held; the decision applies once a
    # dissent is raised (applies_if): both count as used.
    assert {"conference_held", "dissent_raised"} <= events_used(areas["sussex"].rules_for("dissent"))


def test_an_unknown_event_is_still_an_unknown_event(areas: dict[str, Area]) -> None:
    with pytest.raises(UnknownEvent, match="unknown event 'tea_break'"):
        check_all(areas["sussex"], "dissent", given(tea_break="2026-12-01T10:00"))


# ---------------------------------------------------------------- (d) a date with no time for an hours window


def test_a_bare_date_that_starts_the_72_hours_is_refused_with_the_timed_form(areas: dict[str, Area]) -> None:
    with pytest.raises(TimeOfDayNeeded) as err:
        check_all(areas["sussex"], "dissent", given(conference_held="2026-12-01"))
    assert str(err.value) == (
        "conference_held=2026-12-01 gives no time, but conference_held starts the 72 hours of dissent-window "
        "(001_554f9f91afccd8e1.txt 5.7.4), and taken as 00:00 the 72 hours would end too early; give the "
        "time, for example conference_held=2026-12-01T14:00"
    )


def test_a_bare_conference_end_is_refused_too(areas: dict[str, Area]) -> None:
    # The window runs from the end of the meeting when it is recorded (5.7.4).
    gs = given(conference_held="2026-12-01T10:00", conference_ended="2026-12-01")
    with pytest.raises(TimeOfDayNeeded, match=r"^conference_ended=2026-12-01 gives no time"):
        check_all(areas["sussex"], "dissent", gs)


def test_a_bare_date_that_starts_no_hours_window_is_accepted(areas: dict[str, Area]) -> None:
    sussex = areas["sussex"]
    # The window counts from the timed end, so the bare start changes no hour of it.
    check_all(sussex, "dissent", given(conference_held="2026-12-01", conference_ended="2026-12-01T12:30"))
    # Working-day rules run to the end of a day: a bare date is enough.
    check_all(sussex, "complaint", given(conference_held="2026-12-01", complaint_received="2026-12-03"))
    gs = given(conference_held="2026-12-01T10:00", dissent_raised="2026-12-02", dissent_upheld="2026-12-08T12:00")
    check_all(sussex, "dissent", gs)


def test_where_hours_mean_working_days_the_time_does_not_matter(areas: dict[str, Area]) -> None:
    reading_days = replace(areas["sussex"], hours_mean_working_days=True)
    check_all(reading_days, "dissent", given(conference_held="2026-12-01"))


# ---------------------------------------------------------------- (b) a birth before the pre-birth conference


def test_a_birth_before_the_prebirth_conference_is_refused_by_every_timeline(areas: dict[str, Area]) -> None:
    events = [
        Event("prebirth_conference_held", parse_time("2027-01-11T10:00")),
        Event("birth", parse_time("2027-01-05")),
    ]
    with pytest.raises(EventOrderError) as err:
        evaluate(areas["london"], "conference", events, parse_time("2027-01-12T09:00"))
    assert str(err.value) == (
        "birth (Tue 5 Jan 2027) is before prebirth_conference_held (Mon 11 Jan 2027, 10:00); it cannot come "
        "before it (a pre-birth conference concerns an unborn child: 004_974a7b50b4cfbdbf.txt 8.14.1)"
    )


def test_a_birth_on_the_conference_day_is_accepted_unless_both_times_say_it_came_first(
    areas: dict[str, Area],
) -> None:
    london = areas["london"]
    # A bare date cannot be ordered within the day: the conference that morning, the birth that afternoon.
    gs = given(prebirth_conference_held="2027-01-11T10:00", birth="2027-01-11")
    check_all(london, "conference", gs)
    # Both first review dates (8.14.12): one month of the birth, Thu 11 Feb 2027; three months of the
    # conference, Sun 11 Apr 2027; the sooner is the end of Thu 11 Feb 2027.
    tl = evaluate(london, "conference", [g.event for g in gs], parse_time("2027-01-12T09:00"))
    assert tl.get("prebirth-first-review").as_dict()["due"] == "2027-02-11T23:59:59+00:00"
    check_all(london, "conference", given(prebirth_conference_held="2027-01-11T10:00", birth="2027-01-11T15:00"))
    with pytest.raises(EventOrderError, match=r"^birth \(Mon 11 Jan 2027, 08:00\) is before prebirth_conference"):
        check_all(london, "conference", given(prebirth_conference_held="2027-01-11T10:00", birth="2027-01-11T08:00"))


# ---------------------------------------------------------------- (c) the reconvened conference


UPHELD = {"dissent_raised": "2026-12-02T09:00", "dissent_upheld": "2026-12-08T12:00"}


def test_a_reconvened_conference_dated_before_the_original_is_refused(areas: dict[str, Area]) -> None:
    # Meant: the conference on Tue 1 Dec, the reconvened one (wrongly) on Fri 20 Nov. Ordered by time, Fri
    # 20 Nov is the original and Tue 1 Dec the reconvened one, which is before the uphold on Tue 8 Dec.
    gs = given(conference_held=["2026-12-01T10:00", "2026-11-20T10:00"], **UPHELD)
    with pytest.raises(ReconvenedTooEarly) as err:
        check_all(areas["sussex"], "dissent", gs)
    assert str(err.value) == (
        "conference_held is given more than once: the earliest (Fri 20 Nov 2026, 10:00) is taken as the "
        "original and Tue 1 Dec 2026, 10:00 as the one for 'Hold the reconvened conference' "
        "(dissent-reconvene), which cannot come before dissent_upheld (Tue 8 Dec 2026, 12:00) "
        "[001_554f9f91afccd8e1.txt 5.7.7(4)]; the later conference_held cannot be dated before the original, "
        "nor before dissent_upheld"
    )
    assert err.value.moment == datetime.fromisoformat("2026-12-01T10:00+00:00")


def test_a_reconvened_conference_before_the_uphold_the_same_day_is_refused(areas: dict[str, Area]) -> None:
    # By time, as the timeline counts a completion: a bare date is that day's start, before 12:00.
    gs = given(conference_held=["2026-12-01T10:00", "2026-12-08"], **UPHELD)
    with pytest.raises(ReconvenedTooEarly, match=r"cannot come before dissent_upheld \(Tue 8 Dec 2026, 12:00\)"):
        check_all(areas["sussex"], "dissent", gs)


def test_two_conferences_and_no_uphold_is_refused(areas: dict[str, Area]) -> None:
    gs = given(conference_held=["2026-12-01T10:00", "2026-11-20T10:00"])
    with pytest.raises(ReconvenedTooEarly, match="and dissent_upheld is not given; give dissent_upheld, or give"):
        check_all(areas["sussex"], "dissent", gs)


def test_a_reconvened_conference_after_the_uphold_meets_the_duty(areas: dict[str, Area]) -> None:
    gs = given(conference_held=["2026-12-01T10:00", "2026-12-21T10:00"], **UPHELD)
    check_all(areas["sussex"], "dissent", gs)
    tl = evaluate(areas["sussex"], "dissent", [g.event for g in gs], parse_time("2027-01-10T09:00"))
    reconvene = tl.get("dissent-reconvene").as_dict()
    # 15 working days from Tue 8 Dec 2026: Wed 9 (1), Thu 10 (2), Fri 11 (3), Mon 14 (4), Tue 15 (5),
    # Wed 16 (6), Thu 17 (7), Fri 18 (8), Mon 21 (9), Tue 22 (10), Wed 23 (11), Thu 24 (12), [Fri 25
    # Christmas Day, Mon 28 Boxing Day's substitute] Tue 29 (13), Wed 30 (14), Thu 31 Dec 2026 (15).
    assert reconvene["due"] == "2026-12-31T23:59:59+00:00"
    assert reconvene["status"] == "met" and reconvene["completed"] == "2026-12-21T10:00:00+00:00"
