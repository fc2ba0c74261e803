"""The date a complaint was received, as the complaints manager types it on the Teams form.

Pan-Sussex (001_554f9f91afccd8e1.txt); the conference is held Thu 17 Dec 2026 at 14:00. Stage 1 meeting:
10 working days of the complaint (5.7.14). Working days are Monday to Friday, not an England bank holiday;
Fri 25 Dec 2026, Mon 28 Dec 2026 (Boxing Day's substitute) and Fri 1 Jan 2027 are bank holidays:

- from Thu 17 Dec 2026: Fri 18 (1), Mon 21 (2), Tue 22 (3), Wed 23 (4), Thu 24 (5), Tue 29 (6), Wed 30 (7),
  Thu 31 (8), Mon 4 Jan (9), Tue 5 Jan 2027 (10): end of Tue 5 Jan 2027;
- from Fri 18 Dec 2026: Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24 (4), Tue 29 (5), Wed 30 (6), Thu 31 (7),
  Mon 4 Jan (8), Tue 5 (9), Wed 6 Jan 2027 (10): end of Wed 6 Jan 2027.

The e2e helpers at the top (people, the server, reading cards, snapshots of a case) are shared with
tests/e2e/test_lifecycle_refusals.py and tests/e2e/test_corrections.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest

from bot.app import BOT_KEY
from casework.clock import LONDON, parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from casework.service import Casework
from store.sql import SqlStore
from tests.card_nodes import card_nodes
from tests.e2e import fakes
from tests.e2e.server import BotServer, Clock

# ---------------------------------------------------------------- shared helpers

PEOPLE = {
    # person id (Entra object id): (Teams user id, email, agency)
    "oid-chair": ("29:chair", "chair@example.org", "social_care"),
    "oid-cm": ("29:cm", "cm@example.org", "social_care"),
    "oid-hos": ("29:hos", "hos@example.org", "social_care"),
    "oid-lm": ("29:lm", "lm@example.org", "social_care"),
    "oid-admin": ("29:admin", "admin@example.org", "social_care"),
    "oid-pc": ("29:pc", "pc@example.org", "police"),
    "oid-p1": ("29:p1", "p1@example.org", "health"),
    "oid-p2": ("29:p2", "p2@example.org", "education"),
    "oid-p3": ("29:p3", "p3@example.org", "health"),
    "oid-p4": ("29:p4", "p4@example.org", "police"),
    "oid-p5": ("29:p5", "p5@example.org", "education"),
    "oid-p6": ("29:p6", "p6@example.org", "health"),
}
# No sweep on a timer during a test: only the ones a test runs (or a turn's notices wake) change rows.
QUIET = {"sweep_interval_seconds": 3600.0}


def open_channel() -> Iterator[fakes.FakeTeamsChannel]:
    with fakes.FakeTeamsChannel() as ch:
        for oid, (uid, email, _agency) in PEOPLE.items():
            ch.add_member(uid, oid, email, oid)
        yield ch


def start_server(tmp_path: Path, now: str) -> BotServer:
    srv = BotServer(tmp_path, Clock(now), extra=dict(QUIET)).start()
    store = srv.store
    assert store is not None
    for oid, (_uid, email, agency) in PEOPLE.items():
        store.upsert_person(Person(oid, email, oid, agency, "oid-lm" if oid == "oid-chair" else None))
        # Accounts that have used the bot before: a first turn's link would be a change of its own
        # (tests/integration/test_identity_links.py), and these tests count changes.
        store.link_identity("tenant-1", oid, oid, srv.clock(), "object-id")
    store.grant_role(RoleGrant("oid-admin", "admin", "*"))
    return srv


def add_case(
    store: SqlStore, ref: str, area: str, held: str, attendees: tuple[str, ...] = ("oid-pc",), roles: bool = True
) -> None:
    """A conference held at ``held``, chaired by oid-chair; oid-cm is the area's complaints manager and
    oid-hos its reviewing manager."""
    if roles:
        store.grant_role(RoleGrant("oid-cm", "complaints_manager", area))
        store.grant_role(RoleGrant("oid-hos", "head_of_safeguarding", area))
    at = parse_time(held)
    store.add_conference(
        Conference(
            ref,
            area,
            "initial",
            held_at=at,
            chair_id="oid-chair",
            attendees=tuple(Attendee(a, PEOPLE[a][2]) for a in attendees),
        )
    )
    store.record_event(CaseEvent(ref, "conference_held", at, "test"))


def say(server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, text: str) -> None:
    uid = PEOPLE[oid][0]
    r = server.post(fakes.message(text, f"a:{oid}", uid, oid, channel.service_url))
    assert r.status in (200, 201), r


def act(
    server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    """A card action (Action.Execute); returns the card the bot answered with."""
    uid = PEOPLE[oid][0]
    r = server.post(fakes.invoke_adaptive_card_action(verb, data, f"a:{oid}", uid, oid, channel.service_url))
    assert r.status == 200 and r.body["type"] == fakes.ADAPTIVE_CARD, r
    card: dict[str, Any] = r.body["value"]
    return card


def cards_to(channel: fakes.FakeTeamsChannel, oid: str) -> list[dict[str, Any]]:
    return [
        a["content"]
        for r in channel.requests()
        if r.delivered and r.conversation_id == f"a:{oid}"
        for a in r.attachments
        if a.get("contentType") == fakes.ADAPTIVE_CARD
    ]


def texts_to(channel: fakes.FakeTeamsChannel, oid: str) -> list[str]:
    return [r.text for r in channel.requests() if r.delivered and r.conversation_id == f"a:{oid}" and r.text]


def blocks(card: dict[str, Any]) -> list[str]:
    """Every TextBlock's text, in order (nested containers included), unescaped."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock" and isinstance(node.get("text"), str):
                out.append(node["text"].replace("\\", ""))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card.get("body", []))
    return out


def action_data(card: dict[str, Any], verb: str) -> dict[str, Any] | None:
    for a in card.get("actions", []):
        if a.get("verb") == verb:
            data = a["data"]
            assert isinstance(data, dict)
            return data
    return None


def refusal(card: dict[str, Any]) -> str:
    """What a refused action says: a form's "Not recorded: ..." line, or a result card's message."""
    texts = blocks(card)
    for t in texts:
        if t.startswith("Not recorded: "):
            return t.removeprefix("Not recorded: ")
    assert texts and texts[0] in ("Not done", "Already done", "This card is out of date"), texts
    return texts[1]


def snapshot(store: SqlStore, ref: str, reminders: bool = True) -> dict[str, Any]:
    """Everything an action could change about a case: events (withdrawn ones too), complaints,
    dissents, the audit chain's head, notices and (unless told not to: the slowest read) reminders."""
    return {
        "events": [(e.id, e.name, e.at, e.recorded_by) for e in store.all_events_for(ref)],
        "counted": [e.id for e in store.events_for(ref)],
        "complaints": store.complaints_for(ref),
        "dissents": store.dissents_for(ref),
        "audit": (store.audit_head(), len(store.audit_entries(ref))),
        "reminders": store.reminders_for(ref) if reminders else None,
        "notices": store.notices_for(ref),
    }


def settle(server: BotServer) -> None:
    """Run sweeps until one finds nothing due, so that no delivery changes rows behind a comparison."""
    for _ in range(10):
        if server.run_sweep().claimed == 0:
            return
    raise AssertionError("the sweep kept finding work")


def casework_of(server: BotServer) -> Casework:
    assert server.app is not None
    return server.app[BOT_KEY].casework


def record_complaint(
    server: BotServer, channel: fakes.FakeTeamsChannel, ref: str, received: str, **typed: str
) -> dict[str, Any]:
    say(server, channel, "oid-cm", f"complaint {ref}")
    data = action_data(cards_to(channel, "oid-cm")[-1], "complaint.submit")
    assert data is not None
    fields = {"received": received, "complainant": "parent", "grounds": "decision", "summary": "the plan", **typed}
    return act(server, channel, "oid-cm", "complaint.submit", {**data, **fields})


REF = "CPC-123"
MEETING = "Stage 1: chair meets the complainant"


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    yield from open_channel()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    srv = start_server(tmp_path, "2026-12-17T18:00")
    assert srv.store is not None
    add_case(srv.store, REF, "sussex", "2026-12-17T14:00")
    try:
        yield srv
    finally:
        srv.stop()


def inputs(card: dict[str, Any]) -> dict[str, Any]:
    """The form's inputs and the values they are drawn with."""
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found[node["id"]] = node.get("value")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card.get("body", []))
    return found


def status(server: BotServer, channel: fakes.FakeTeamsChannel) -> list[str]:
    say(server, channel, "oid-cm", f"status {REF}")
    return blocks(cards_to(channel, "oid-cm")[-1])


def due_of(texts: list[str], title: str) -> str:
    return next(texts[i + 1] for i, t in enumerate(texts) if title in t)


def events_shown(server: BotServer, channel: fakes.FakeTeamsChannel) -> list[tuple[str, str]]:
    """The status card's list of events: (when, what)."""
    say(server, channel, "oid-cm", f"status {REF}")
    card = cards_to(channel, "oid-cm")[-1]
    facts = [b for b in card["body"] if b.get("type") == "FactSet"]
    return [(f["title"].replace("\\", ""), f["value"]) for f in facts[-1]["facts"]]


def test_complaint_on_the_conference_day_hours_after_it_is_accepted(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    store = server.store
    assert store is not None
    # 17:30, three and a half hours after the conference began at 14:00, the same day.
    card = record_complaint(server, channel, REF, "2026-12-17", received_time="17:30")
    assert blocks(card)[0] == "Complaint recorded", blocks(card)
    # What comes next is the complaint's own steps, not the dissent window that is open beside it.
    facts = [f["title"] for n in card_nodes(card) if n.get("type") == "FactSet" for f in n["facts"]]
    assert facts[0] == "Conference" and "Stage 1: chair meets the complainant" in facts, facts
    assert not any("dissent" in f.lower() for f in facts), facts
    # The same day given as a date with no time (kept at the day's start, 00:00, before 14:00): accepted
    # too, since a date is compared with the conference's date.
    card = record_complaint(server, channel, REF, "2026-12-17", complainant="child")
    assert blocks(card)[0] == "Complaint recorded", blocks(card)
    by_role = {c.complainant_role: c for c in store.complaints_for(REF)}
    assert by_role["parent"].received_at == parse_time("2026-12-17T17:30") and by_role["parent"].time_given
    assert by_role["child"].received_at == datetime(2026, 12, 17, tzinfo=LONDON) and not by_role["child"].time_given
    assert due_of(status(server, channel), MEETING) == "Due end of Tue 5 Jan 2027"  # 10 working days, above
    assert ("Thu 17 Dec 2026, 17:30", "Complaint received. Recorded by oid-cm.") in events_shown(server, channel)


def test_a_date_with_no_time_is_kept_as_a_date(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    store = server.store
    assert store is not None
    server.clock.set("2026-12-18T12:00")
    card = record_complaint(server, channel, REF, "2026-12-18")
    assert blocks(card)[0] == "Complaint recorded", blocks(card)
    (complaint,) = store.complaints_for(REF)
    local = complaint.received_at.astimezone(LONDON)
    # Kept as the date: the day's start, flagged as having no time (not 09:00, nor the time it was typed).
    assert (local.date().isoformat(), local.time(), complaint.time_given) == ("2026-12-18", time(0, 0), False)
    (received,) = [e for e in store.events_for(REF) if e.name == "complaint_received"]
    assert received.at == complaint.received_at
    (entry,) = [e for e in store.audit_entries(REF) if e.action == "complaint.received"]
    assert entry.detail["received"] == "2026-12-18"
    # Stage 1 meeting: 10 working days from Fri 18 Dec 2026 (worked out above).
    assert due_of(status(server, channel), MEETING) == "Due end of Wed 6 Jan 2027"
    # Shown as a date where the step is listed to correct it.
    say(server, channel, "oid-cm", f"correct {REF}")
    form = cards_to(channel, "oid-cm")[-1]
    titles = [c["title"] for b in form["body"] if b.get("id") == "item" for c in b["choices"]]
    assert titles == ["Complaint received, Fri 18 Dec 2026"], titles


def test_a_date_with_no_time_is_shown_as_a_date_on_the_status_card(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    server.clock.set("2026-12-18T12:00")
    assert blocks(record_complaint(server, channel, REF, "2026-12-18"))[0] == "Complaint recorded"
    shown = dict((what, when) for when, what in events_shown(server, channel))
    assert shown["Complaint received. Recorded by oid-cm."] == "Fri 18 Dec 2026"


@pytest.mark.parametrize(
    ("received", "received_time", "error"),
    [
        (
            "2026-12-16",
            "18:00",
            "the complaint cannot be received before conference CPC-123 was held (Thu 17 Dec 2026)",
        ),
        ("2026-12-19", "", "the date received cannot be in the future"),
        ("18/12/2026", "10:00", "give the date as YYYY-MM-DD (and the time, if you know it, as HH:MM)"),
        ("2026-12-18", "25:99", "give the date as YYYY-MM-DD (and the time, if you know it, as HH:MM)"),
        # The clock changes (last Sundays of October and March 2027; tests/unit/test_clock_changes.py): a
        # Teams time box takes no offset, so the hint is to leave the time out or give another time. The
        # time is refused before the date is compared with today.
        (
            "2027-10-31",
            "01:30",
            "the time 01:30 on Sun 31 Oct 2027 happens twice (the clocks go back from 02:00 BST to 01:00 GMT): "
            "leave the time empty to record the date alone, or give a time outside 01:00-01:59",
        ),
        (
            "2027-03-28",
            "01:30",
            "the time 01:30 on Sun 28 Mar 2027 does not exist (the clocks go forward from 01:00 GMT to "
            "02:00 BST): give the time the clock showed, from 02:00, or leave the time empty",
        ),
    ],
)
def test_refused_complaint_form_comes_back_with_what_was_typed(
    server: BotServer, channel: fakes.FakeTeamsChannel, received: str, received_time: str, error: str
) -> None:
    store = server.store
    assert store is not None
    server.clock.set("2026-12-18T12:00")
    before = snapshot(store, REF)
    typed = {
        "received": received,
        "received_time": received_time,
        "complainant": "child",
        "grounds": "outcome",
        "summary": "The category of concern was wrong",
    }
    form = record_complaint(server, channel, REF, **typed)
    texts = blocks(form)
    assert texts[0] == f"Record a complaint: {REF}" and f"Not recorded: {error}" in texts, texts
    assert inputs(form) == typed
    assert snapshot(store, REF) == before
    # The form that came back works: corrected, it records the complaint.
    data = action_data(form, "complaint.submit")
    assert data is not None
    card = act(
        server,
        channel,
        "oid-cm",
        "complaint.submit",
        {**data, **typed, "received": "2026-12-18", "received_time": "10:00"},
    )
    assert blocks(card)[0] == "Complaint recorded", blocks(card)


def test_same_day_repeat_comes_back_as_the_form_with_the_second_complaint_box(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    assert blocks(record_complaint(server, channel, REF, "2026-12-17", received_time="17:30"))[0] == (
        "Complaint recorded"
    )
    form = record_complaint(server, channel, REF, "2026-12-17", received_time="17:45", summary="again")
    assert "second" in inputs(form) and inputs(form)["received_time"] == "17:45", blocks(form)


def test_a_step_at_an_ambiguous_clock_change_time_comes_back_refused(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    """01:30 on Sun 31 Oct 2027 happens twice in UK time (tests/unit/test_clock_changes.py): the step form
    comes back with why and what to do, and nothing is recorded."""
    store = server.store
    assert store is not None
    server.clock.set("2027-11-01T12:00")
    assert blocks(record_complaint(server, channel, REF, "2027-10-29"))[0] == "Complaint recorded"
    before = snapshot(store, REF, reminders=False)
    say(server, channel, "oid-cm", f"stage2 {REF}")
    data = action_data(cards_to(channel, "oid-cm")[-1], "step.submit")
    assert data is not None
    step = {**data, "event": "stage1_meeting_held", "date": "2027-10-31", "time": "01:30"}
    form = act(server, channel, "oid-cm", "step.submit", step)
    assert refusal(form) == (
        "the time 01:30 on Sun 31 Oct 2027 happens twice (the clocks go back from 02:00 BST to 01:00 GMT): "
        "leave the time empty to record the date alone, or give a time outside 01:00-01:59"
    )
    assert snapshot(store, REF, reminders=False) == before
    # Given at 02:30 (GMT, after the repeated hour), the same step is recorded.
    assert blocks(act(server, channel, "oid-cm", "step.submit", {**step, "time": "02:30"}))[0] == "Recorded"
