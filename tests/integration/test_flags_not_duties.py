"""A flag (London 8.9.10: an initial conference of no more than two hours) over a real store: shown on the
case's timeline, in nobody's ``deadlines``, never reminded and never marked done.

In-memory SQLite, as in test_service.py; the times are worked out by hand in the comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from app.procedures import load_catalogue
from casework.clock import parse_time
from casework.errors import InvalidInput
from casework.records import Attendee, CaseEvent, Conference, Person
from casework.service import Casework
from store.sql import SqlStore, open_store

FLAG = "initial-conference-length"


@pytest.fixture()
def world() -> Iterator[tuple[Casework, SqlStore]]:
    # Tue 1 Dec 2026 10:00-12:30 GMT: 2 h 30 min, over the two hours (limit 12:00 GMT). Now 13:00.
    store = open_store("sqlite://")
    now = parse_time("2026-12-01T13:00")

    def clock() -> datetime:
        return now

    cw = Casework(store, load_catalogue().areas, clock)
    for pid, agency in [("chair", "social_care"), ("sw", "social_care"), ("pc", "police")]:
        store.upsert_person(Person(pid, f"{pid}@example.org", pid, agency, None))
    held, ended = parse_time("2026-12-01T10:00"), parse_time("2026-12-01T12:30")
    attendees = (Attendee("sw", "social_care"), Attendee("pc", "police"))
    store.add_conference(
        Conference("CPC-9", "london", "initial", held_at=held, ended_at=ended, chair_id="chair", attendees=attendees)
    )
    store.record_event(CaseEvent("CPC-9", "conference_held", held, "test"))
    store.record_event(CaseEvent("CPC-9", "conference_ended", ended, "test"))
    cw.replan_reminders("CPC-9")
    yield cw, store
    store.close()


def test_an_overrun_is_shown_but_is_nobodys_duty(world: tuple[Casework, SqlStore]) -> None:
    cw, store = world
    view = cw.view("chair", "CPC-9")
    flag = next(d for t in view.timelines for d in t.deadlines if d.rule.id == FLAG)
    assert flag.status == "late" and flag.as_dict()["flagged"] is True
    for person in ("chair", "sw", "pc"):
        listed = [d.deadline.rule.id for d in cw.deadlines_for(person)]
        assert FLAG not in listed and "review-conference-length" not in listed
    # The chair's real duties are listed (the decision letter, due end of Wed 2 Dec 2026: 1 working day).
    assert "decision-letter" in [d.deadline.rule.id for d in cw.deadlines_for("chair")]
    assert {r.rule_id for r in store.reminders_for("CPC-9")} >= {"decision-letter"}
    assert not [r for r in store.reminders_for("CPC-9") if r.rule_id in (FLAG, "review-conference-length")]


def test_a_flag_cannot_be_marked_done(world: tuple[Casework, SqlStore]) -> None:
    cw, _store = world
    with pytest.raises(InvalidInput, match="there is no duty"):
        cw.complete_duty("chair", "CPC-9", FLAG)
