"""Lifecycles refuse what is not valid now, through the real server and a fake Teams channel.

Complaints: for every area whose pack offers a complaints process, every complaint step that is not
valid after each valid prefix of its lifecycle is sent as a ``step.submit`` card action (or, for the
outcome, ``outcome.submit``), bypassing the form's filtering. Each is refused naming the next valid
step(s) and citing their paragraphs, and changes nothing stored. The valid prefixes and the steps
valid after them are worked out here from the packs' ``[lifecycle.complaint]`` tables, independently
of ``casework.lifecycle``, and checked against it.

Dissent: a second dissent after a decision is refused saying what was decided and when; the chair's
card actions on a dissent in another state are refused and change nothing.

The e2e helpers (people, server, card reading, snapshots) are in tests/e2e/test_complaint_dates.py.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from casework.citations import cite_text
from casework.clock import parse_time
from casework.commands.complaint import STEP_EVENTS
from casework.lifecycle.complaint import complaint_steps
from tests.e2e import fakes
from tests.e2e.server import BotServer
from tests.e2e.test_complaint_dates import (
    act,
    add_case,
    blocks,
    casework_of,
    open_channel,
    record_complaint,
    refusal,
    say,
    settle,
    snapshot,
    start_server,
    texts_to,
)

# ---------------------------------------------------------------------------------------------- the seeds' order

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"


def _packs() -> dict[str, dict[str, Any]]:
    packs = {}
    for path in sorted(PROCEDURES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        packs[data["area"]["id"]] = data
    return packs


PACKS = _packs()


def seed_lifecycle(area: str) -> dict[str, Any] | None:
    """The pack's [lifecycle.complaint] table, or its parent's (``extends``)."""
    pack = PACKS[area]
    table: dict[str, Any] | None = pack.get("lifecycle", {}).get("complaint")
    if table is None and pack["area"].get("extends"):
        return seed_lifecycle(pack["area"]["extends"])
    return table


def seed_steps(area: str) -> list[dict[str, Any]]:
    table = seed_lifecycle(area)
    assert table is not None, area
    steps: list[dict[str, Any]] = table["steps"]
    return steps


COMPLAINT_AREAS = sorted(a for a in PACKS if (t := seed_lifecycle(a)) is not None and t.get("offered", True))


def seed_next(steps: list[dict[str, Any]], history: list[str]) -> set[str]:
    """The steps valid after ``history``, as the pack says: a step may follow the last one recorded when
    a transition for it lists that one in ``after`` (``after = []``: the first step), while it has been
    recorded fewer than that transition's ``times`` (default 1). Nothing follows ``closed``."""
    if history and history[-1] == "closed":
        return set()
    counts = Counter(history)
    last = history[-1] if history else None
    return {
        s["event"]
        for s in steps
        if (not s["after"] if last is None else last in s["after"]) and counts[s["event"]] < s.get("times", 1)
    }


def state_of(history: list[str]) -> tuple[str, tuple[tuple[str, int], ...]]:
    """What the seed's rule looks at: the last step, and how often each step has been recorded."""
    return history[-1], tuple(sorted(Counter(history).items()))


def seed_states(steps: list[dict[str, Any]]) -> set[tuple[str, tuple[tuple[str, int], ...]]]:
    """Every state reachable from the complaint's receipt by steps the cards carry (pure: no server)."""
    found: set[tuple[str, tuple[tuple[str, int], ...]]] = set()
    todo = [["complaint_received"]]
    while todo:
        history = todo.pop()
        if state_of(history) not in found:
            found.add(state_of(history))
            todo += [[*history, e] for e in seed_next(steps, history) if e == "closed" or command_for(e)]
    return found


def command_for(event: str) -> str | None:
    """The card command that carries a step (None: the Teams forms have no way to record it)."""
    return next((c for c, names in STEP_EVENTS.items() if event in names), None)


def test_every_area_offering_complaints_is_covered() -> None:
    # Guards the generator: an empty or shrunken list would make the refusal test pass vacuously.
    assert {"sussex", "london", "hipps", "hampshire", "oxfordshire", "england-statutory"} <= set(COMPLAINT_AREAS)
    assert "city-hackney" not in COMPLAINT_AREAS  # 003: its procedure is for professionals only
    for area in COMPLAINT_AREAS:
        steps = seed_steps(area)
        assert any(not s["after"] for s in steps) and any(s["event"] == "closed" for s in steps), area


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    yield from open_channel()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    # Just after the last step the walk can date (at most 45 steps, a day each from Wed 6 Jan 2027).
    srv = start_server(tmp_path, "2027-02-24T12:00")
    try:
        yield srv
    finally:
        srv.stop()


class Walk:
    """One case walked through every valid prefix of its area's complaint lifecycle: a step forward is
    recorded through Teams, a step back is a correction (the last step withdrawn)."""

    def __init__(self, server: BotServer, channel: fakes.FakeTeamsChannel, area: str, ref: str) -> None:
        self.server, self.channel, self.area_id, self.ref = server, channel, area, ref
        assert server.store is not None
        self.store = server.store
        self.cw = casework_of(server)
        self.area = self.cw.areas[area]
        self.steps = seed_steps(area)
        # Every complaint step of the area, and every step the stage2/panel cards can carry in it.
        seeded = {s["event"] for s in self.steps}
        carried = {e for names in STEP_EVENTS.values() for e in names if e in self.area.events}
        self.candidates = sorted((seeded | carried) - {"complaint_received"})
        self.day = 0
        self.refusals = 0
        self.seen: set[tuple[str, tuple[tuple[str, int], ...]]] = set()

    def next_date(self) -> str:
        """One day per step recorded, from Wed 6 Jan 2027: always after every step still counted (and a
        refused step is dated a day after the last one, so it is never a replay of it)."""
        return f"{parse_time('2027-01-06T10:00') + timedelta(days=self.day + 1):%Y-%m-%d}"

    def version(self) -> str:
        return self.cw.version_of(self.store.events_for(self.ref))

    def submit(self, event: str, date: str) -> dict[str, Any]:
        version = self.version()
        if event == "closed":
            # Once closed, the same outcome again is a repeat (answered as the first was): a refusal is
            # tried with another outcome.
            closed = any(c.stage.startswith("closed") for c in self.store.complaints_for(self.ref))
            data = {
                "reference": self.ref,
                "outcome": "review_forward" if closed else "confirmed",
                "version": version,
                "explanation": "The decision was explained to the parent in writing",
            }
            return act(self.server, self.channel, "oid-cm", "outcome.submit", data)
        command = command_for(event)
        assert command is not None, event
        data = {"reference": self.ref, "command": command, "version": version}
        step = {**data, "event": event, "date": date, "time": "10:00"}
        return act(self.server, self.channel, "oid-cm", "step.submit", step)

    def forward(self, event: str) -> None:
        card = self.submit(event, self.next_date())
        self.day += 1
        assert blocks(card)[0] in ("Recorded", "Outcome recorded"), (event, blocks(card))

    def back(self, event: str) -> None:
        last = [e for e in self.store.events_for(self.ref) if e.name == event][-1]
        assert last.id is not None
        self.cw.correct("oid-cm", self.ref, str(last.id), "stepping back through the lifecycle", self.version())

    def refusals_at(self, history: list[str]) -> None:
        expected = seed_next(self.steps, history)
        recorded = [e.name for e in self.store.events_for(self.ref)]
        valid = complaint_steps(self.area, recorded)
        # The seeds' order, read here, and casework's lifecycle agree on what is valid now.
        assert {s.event for s in valid} == expected, (self.area_id, history)
        before = snapshot(self.store, self.ref)
        quick = {**before, "reminders": None}
        tried: list[str] = []
        for event in self.candidates:
            if event in expected or (event != "closed" and command_for(event) is None):
                continue  # valid now (test_every_complaint_step_can_be_carried_by_a_card: every step has a card)
            card = self.submit(event, self.next_date())
            tried.append(event)
            # Compared after every refusal, so that one changing something is named; the reminder rows
            # (a slow read) after the last one: a refusal's change would still be there.
            assert snapshot(self.store, self.ref, reminders=False) == quick, (self.area_id, history, event)
            said = refusal(card)
            self.refusals += 1
            where = f"{self.area_id} after {history}: {event}: {said}"
            if not valid:  # after the outcome nothing can be recorded, and the refusal says why
                closed = "the complaint is closed" in said and "nothing follows it" in said
                assert closed or (event == "closed" and "is already closed" in said), where
                continue
            assert "the next step is" in said, where
            for s in valid:  # every step valid now is named, with its procedure (by name) and paragraph
                assert f"{s.title} ({cite_text(s.source, self.area)})" in said, where
            assert ".txt" not in said, where
        assert snapshot(self.store, self.ref) == before, (self.area_id, history, tried)

    def explore(self, history: list[str]) -> None:
        key = state_of(history)
        if key in self.seen:
            return
        self.seen.add(key)
        self.refusals_at(history)
        for event in sorted(seed_next(self.steps, history)):
            if event != "closed" and command_for(event) is None:
                continue
            self.forward(event)
            self.explore([*history, event])
            self.back(event)


@pytest.mark.parametrize("area", COMPLAINT_AREAS)
def test_every_out_of_order_complaint_step_is_refused(
    server: BotServer, channel: fakes.FakeTeamsChannel, area: str
) -> None:
    assert server.store is not None
    ref = "CPC-700"
    add_case(server.store, ref, area, "2027-01-04T10:00")
    settle(server)
    card = record_complaint(server, channel, ref, "2027-01-05")
    assert blocks(card)[0] == "Complaint recorded", blocks(card)
    walk = Walk(server, channel, area, ref)
    walk.explore(["complaint_received"])
    # The walk reached every state the seed allows by steps the cards carry, and refused at each.
    assert walk.seen == seed_states(walk.steps) and walk.refusals >= len(walk.seen), (len(walk.seen), walk.refusals)
    # The walk ends where it began, with the complaint open at Stage 1.
    assert [e.name for e in server.store.events_for(ref) if e.name != "conference_held"] == ["complaint_received"]
    assert [c.stage for c in server.store.complaints_for(ref)] == ["stage1"]


def test_every_complaint_step_can_be_carried_by_a_card() -> None:
    missing = {
        area: sorted(
            s["event"]
            for s in seed_steps(area)
            if s["event"] not in ("complaint_received", "closed") and command_for(s["event"]) is None
        )
        for area in COMPLAINT_AREAS
    }
    assert not any(missing.values()), missing


# ---------------------------------------------------------------------------------------------- dissent


def _raise(server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, ref: str) -> int:
    say(server, channel, oid, f"dissent {ref} The threshold for a plan is not met")
    assert server.store is not None
    mine = [d for d in server.store.dissents_for(ref) if d.person_id == oid]
    assert mine and mine[-1].id is not None, texts_to(channel, oid)[-1:]
    return mine[-1].id


@pytest.fixture()
def dissent_server(tmp_path: Path) -> Iterator[BotServer]:
    srv = start_server(tmp_path, "2026-12-17T16:00")
    assert srv.store is not None
    attendees = ("oid-pc", "oid-p1", "oid-p2", "oid-p3", "oid-p4", "oid-p5", "oid-p6")
    add_case(srv.store, "CPC-123", "sussex", "2026-12-17T14:00", attendees)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("decision", "words"),
    [("uphold", "upheld: the conference is to be reconvened"), ("not_upheld", "not upheld")],
)
def test_second_dissent_after_a_decision_is_refused(
    dissent_server: BotServer, channel: fakes.FakeTeamsChannel, decision: str, words: str
) -> None:
    server = dissent_server
    assert server.store is not None
    dissent = _raise(server, channel, "oid-pc", "CPC-123")
    card = act(server, channel, "oid-chair", "dissent.record", {"dissent": dissent, "state": "raised"})
    assert blocks(card)[0] == "Dissent recorded", blocks(card)
    server.clock.set("2027-01-04T10:15")
    reasons = {"decision": decision, "reasons": "The threshold was applied as the procedure says"}
    card = act(server, channel, "oid-hos", "dissent.decide", {"dissent": dissent, "state": "recorded", **reasons})
    assert blocks(card)[0] == "Decision recorded", blocks(card)
    settle(server)
    server.clock.set("2027-01-04T11:00")
    before = snapshot(server.store, "CPC-123")
    say(server, channel, "oid-pc", "dissent CPC-123 Another reason: the plan's contingency is missing")
    reply = texts_to(channel, "oid-pc")[-1]
    assert f"Your dissent from CPC-123 was {words} on Mon 4 Jan 2027, 10:15" in reply, reply
    assert "a second dissent about the same conference is not taken" in reply
    settle(server)
    assert snapshot(server.store, "CPC-123") == before


def test_chair_actions_on_a_dissent_in_another_state_are_refused(
    dissent_server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    server = dissent_server
    store = server.store
    assert store is not None
    ids = {oid: _raise(server, channel, oid, "CPC-123") for oid in ("oid-pc", "oid-p1", "oid-p2", "oid-p3", "oid-p4")}
    record = {"dissent": 0, "state": "raised"}
    for oid in ("oid-p1", "oid-p2", "oid-p3"):
        card = act(server, channel, "oid-chair", "dissent.record", {**record, "dissent": ids[oid]})
        assert blocks(card)[0] == "Dissent recorded"
    reasons = "The threshold was applied as the procedure says"
    for oid, decision in (("oid-p2", "uphold"), ("oid-p3", "not_upheld")):
        data = {"dissent": ids[oid], "state": "recorded", "decision": decision, "reasons": reasons}
        assert blocks(act(server, channel, "oid-hos", "dissent.decide", data))[0] == "Decision recorded"
    say(server, channel, "oid-p4", "dissent withdraw CPC-123")
    # After the window (72 hours from 14:00 on Thu 17 Dec: Sun 20 Dec 2026, 14:00) a late one, declined.
    server.clock.set("2026-12-21T09:00")
    ids["oid-p5"] = _raise(server, channel, "oid-p5", "CPC-123")
    decline = {"dissent": ids["oid-p5"], "state": "raised", "reasons": "Raised after the window without cause"}
    assert blocks(act(server, channel, "oid-chair", "dissent.decline", decline))[0] == "Late dissent declined"
    states = {d.person_id: (d.state, d.late) for d in store.dissents_for("CPC-123")}
    assert states == {
        "oid-pc": ("raised", False),
        "oid-p1": ("recorded", False),
        "oid-p2": ("upheld", False),
        "oid-p3": ("not_upheld", False),
        "oid-p4": ("withdrawn", False),
        "oid-p5": ("declined", True),
    }
    settle(server)
    tried = 0
    for oid, (state, _late) in states.items():
        # The chair's prompt as first drawn (raised), and a card drawn for the state it is in now.
        for drawn in sorted({"raised", state}):
            for verb, extra in (("dissent.record", {}), ("dissent.decline", {"reasons": "Raised after the window"})):
                if drawn == state == "raised" and verb == "dissent.record":
                    continue  # valid: recording an on-time dissent that has been raised
                before = snapshot(store, "CPC-123")
                card = act(server, channel, "oid-chair", verb, {"dissent": ids[oid], "state": drawn, **extra})
                repeat = drawn == "raised" and (verb, state) in (
                    ("dissent.record", "recorded"),
                    ("dissent.decline", "declined"),
                )
                if repeat:
                    # The same card again: the first action's answer, saying it is recorded once.
                    first = "Dissent recorded" if verb == "dissent.record" else "Late dissent declined"
                    assert blocks(card)[0] == first and "it is recorded once" in " ".join(blocks(card)), (oid, verb)
                    settle(server)
                    assert snapshot(store, "CPC-123") == before, (oid, verb, drawn)
                    tried += 1
                    continue
                assert blocks(card)[0] in ("Not done", "Already done", "This card is out of date"), (oid, verb, drawn)
                said = refusal(card)
                if verb == "dissent.decline" and state == "raised":
                    assert "cannot be declined" in said and "5.7.4" in said, said  # on time: recorded, never declined
                settle(server)
                assert snapshot(store, "CPC-123") == before, (oid, verb, drawn, said)
                tried += 1
    assert tried == 1 + 4 * 5  # the raised one: decline only; the five others: both verbs, both cards (two are repeats)
