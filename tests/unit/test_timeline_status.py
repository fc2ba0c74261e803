"""Statuses and the rules for which events count."""

from __future__ import annotations

import pytest

from casework.errors import EventOrderError, UnknownEvent, UnknownProcess
from tests.unit.conftest import Run


def test_waiting_until_started_then_pending_then_missed(run: Run) -> None:
    tl = run("sussex", "dissent")
    assert all(d.status == "waiting" for d in tl.deadlines)
    assert all(d.as_dict()["due"] is None for d in tl.deadlines)
    tl = run("sussex", "dissent", now="2026-12-19T10:00", conference_held="2026-12-17T14:00")
    assert tl.get("dissent-window").status == "pending"
    tl = run("sussex", "dissent", now="2026-12-20T14:00:01", conference_held="2026-12-17T14:00")
    assert tl.get("dissent-window").status == "missed"


def test_decision_waits_for_a_dissent_but_is_dated(run: Run) -> None:
    tl = run("sussex", "dissent", now="2027-02-01T10:00", conference_held="2026-12-17T14:00")
    d = tl.get("dissent-decision")
    assert d.status == "waiting" and d.due is not None and not d.applicable
    tl = run(
        "sussex",
        "dissent",
        now="2027-02-01T10:00",
        conference_held="2026-12-17T14:00",
        dissent_raised="2026-12-18T10:00",
    )
    assert tl.get("dissent-decision").status == "missed"


def test_late_decision(run: Run) -> None:
    tl = run(
        "sussex",
        "dissent",
        conference_held="2026-12-17T14:00",
        dissent_raised="2026-12-18T10:00",
        dissent_not_upheld="2027-01-06T09:00",
    )
    assert tl.get("dissent-decision").status == "late"


def test_discretion_is_recorded_on_a_late_window(areas) -> None:
    from casework.clock import parse_time
    from casework.events import Event
    from casework.timeline import evaluate

    evs = [
        Event("conference_held", parse_time("2026-12-17T14:00")),
        Event("dissent_raised", parse_time("2026-12-21T09:00")),
    ]
    d = evaluate(areas["sussex"], "dissent", evs, parse_time("2026-12-22"), ["dissent-window"]).get("dissent-window")
    assert d.status == "late" and d.discretion
    assert "accepted at the chair's recorded discretion" in d.explanation


def test_event_before_the_conference_is_refused(run: Run) -> None:
    with pytest.raises(EventOrderError, match=r"dissent_raised .* is before conference_held"):
        run("sussex", "dissent", conference_held="2026-12-17T14:00", dissent_raised="2026-12-16T10:00")


def test_unknown_event_and_process(run: Run) -> None:
    with pytest.raises(UnknownEvent, match="conference_helt"):
        run("sussex", "dissent", conference_helt="2026-12-17T14:00")
    with pytest.raises(UnknownProcess, match="choose one of: complaint, dissent"):
        run("sussex", "appeal")


def test_explanations_cite_source_and_skipped_days(run: Run) -> None:
    tl = run("sussex", "dissent", conference_held="2026-12-17T14:00")
    text = tl.get("dissent-decision").explanation
    assert "Source: Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.7(3)-(4)." in text
    assert "Fri 25 Dec 2026 (Christmas Day)" in text and "Mon 28 Dec 2026 (Boxing Day (observed))" in text
