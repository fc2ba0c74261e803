"""``deadlines`` over HTTP: each person sees only their own duties; rights are open for others, never
their overdue work; every duty can be marked done from its card (issue 9 item 7).

Dates (Pan-Sussex, 001): conference CPC-123 held Thu 17 Dec 2026 14:00, the clock at Mon 21 Dec 10:00.
- dissent window: 72 hours from 14:00 Thu 17 Dec -> Sun 20 Dec 14:00 (5.7.4): closed by Monday.
- complaint window: 10 working days of Thu 17 Dec: Fri 18 (1), Mon 21 (2), Tue 22 (3), Wed 23 (4),
  Thu 24 (5), Tue 29 (6), Wed 30 (7), Thu 31 (8), Mon 4 Jan (9), Tue 5 Jan 2027 (10), skipping
  25 and 28 Dec and 1 Jan (5.7.13, counted from the conference).
- CPC-124 held Mon 21 Dec 09:00: its dissent window runs to Thu 24 Dec 09:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from tests.e2e import fakes
from tests.e2e.server import BotServer, Clock
from tests.e2e.test_bot_flows import PEOPLE, act, card_text, cards_to, channel, say

__all__ = ["channel"]  # the fake channel fixture, shared with test_bot_flows


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    with BotServer(tmp_path, Clock("2026-12-18T10:00")) as srv:
        store = srv.store
        assert store is not None
        for oid, (_uid, email, agency) in PEOPLE.items():
            store.upsert_person(Person(oid, email, oid, agency, "oid-lm" if oid == "oid-chair" else None))
        store.grant_role(RoleGrant("oid-hos", "head_of_safeguarding", "sussex"))
        store.grant_role(RoleGrant("oid-cm", "complaints_manager", "sussex"))
        for ref, held in (("CPC-123", "2026-12-17T14:00"), ("CPC-124", "2026-12-21T09:00")):
            at = parse_time(held)
            store.add_conference(
                Conference(
                    ref,
                    "sussex",
                    "initial",
                    held_at=at,
                    chair_id="oid-chair",
                    attendees=(Attendee("oid-pc", "police"), Attendee("oid-nurse", "health")),
                )
            )
            store.record_event(CaseEvent(ref, "conference_held", at, "test"))
        yield srv


def deadlines(server: BotServer, channel: fakes.FakeTeamsChannel, oid: str) -> dict[str, Any]:
    say(server, channel, oid, "deadlines")
    return cards_to(channel, f"a:{oid}")[-1]


def duty_lines(card: dict[str, Any]) -> list[str]:
    """The bold first line of each duty (its RAG word, case and title)."""
    return [
        c["items"][0]["text"] for c in card["body"] if c.get("type") == "Container" and len(c.get("items", [])) == 4
    ]


def right_lines(card: dict[str, Any]) -> list[str]:
    return [
        f"{c['items'][0]['text']} | {c['items'][1]['text']}"
        for c in card["body"]
        if c.get("type") == "Container" and len(c.get("items", [])) == 3
    ]


def test_each_person_sees_only_their_own_duties(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    # Fri 18 Dec 10:00: the police officer dissents (on time) and the complaints manager records a
    # complaint received today about CPC-123.
    say(server, channel, "oid-pc", "dissent CPC-123 Threshold for a plan is not met")
    say(server, channel, "oid-cm", "complaint CPC-123")
    form = cards_to(channel, "a:oid-cm")[-1]
    data = next(a["data"] for a in form["actions"] if a.get("verb") == "complaint.submit")
    r = act(
        server,
        channel,
        "oid-cm",
        "complaint.submit",
        {**data, "received": "2026-12-18", "complainant": "parent", "grounds": "decision", "summary": ""},
    )
    assert "Complaint recorded" in card_text(r.body["value"])
    server.clock.set("2026-12-21T10:00")

    chair = deadlines(server, channel, "oid-chair")
    duties = duty_lines(chair)
    # The chair's own: record the dissent (5.7.7(2)), tell their manager (5.7.12), meet the complainant
    # (5.7.14), and nothing that is someone else's.
    assert any("CPC-123: Record the dissent in the Chair's Summary and Plan" in d for d in duties), duties
    assert any("Chair informs their manager" in d for d in duties), duties
    assert any("CPC-123: Stage 1: chair meets the complainant" in d for d in duties), duties
    assert not any("Reviewing manager decides" in d for d in duties), duties
    assert not any("may complain" in d or "Raise dissent" in d for d in duties), duties
    # The family's right to complain about CPC-124 is open, shown as theirs, never as the chair's overdue.
    rights = right_lines(chair)
    assert any("CPC-124: Family or child may complain" in r and "Open for the family until" in r for r in rights)
    assert "Overdue" not in " ".join(rights)

    hos = duty_lines(deadlines(server, channel, "oid-hos"))
    # The reviewing manager decides within 10 working days of the conference: end of Tue 5 Jan 2027.
    assert any("CPC-123: Reviewing manager decides" in d for d in hos), hos
    assert not any("Chair" in d for d in hos), hos

    cm = deadlines(server, channel, "oid-cm")
    assert not any("Chair" in d or "Reviewing manager" in d for d in duty_lines(cm)), duty_lines(cm)

    # The police officer's own right to dissent from CPC-124 is open for them until Thu 24 Dec 09:00.
    pc = deadlines(server, channel, "oid-pc")
    assert duty_lines(pc) == []
    assert any(
        "CPC-124: Raise dissent" in r and "Open for you until Thu 24 Dec 2026, 09:00" in r for r in right_lines(pc)
    )
    # The closed window of CPC-123 is nobody's overdue work: it is not listed.
    assert not any("CPC-123: Raise dissent" in r for r in right_lines(pc))


def test_a_duty_is_marked_done_from_deadlines(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    say(server, channel, "oid-cm", "complaint CPC-123")
    form = cards_to(channel, "a:oid-cm")[-1]
    data = next(a["data"] for a in form["actions"] if a.get("verb") == "complaint.submit")
    act(
        server,
        channel,
        "oid-cm",
        "complaint.submit",
        {**data, "received": "2026-12-18", "complainant": "parent", "grounds": "decision", "summary": ""},
    )
    card = deadlines(server, channel, "oid-chair")
    container = next(
        c for c in card["body"] if c.get("type") == "Container" and "Chair informs their manager" in card_text(c)
    )
    action = container["items"][3]["actions"][0]
    assert action["title"] == "Mark done" and action["verb"] == "duty.done"
    # Only the chair may mark the chair's duty done.
    r = act(server, channel, "oid-pc", "duty.done", action["data"])
    assert "is for the chair of CPC-123" in card_text(r.body["value"])
    r = act(server, channel, "oid-chair", "duty.done", action["data"])
    assert "Marked done" in card_text(r.body["value"]), card_text(r.body)
    # Twice is once.
    r = act(server, channel, "oid-chair", "duty.done", action["data"])
    assert "Already done" in card_text(r.body["value"])
    assert not any("Chair informs their manager" in d for d in duty_lines(deadlines(server, channel, "oid-chair")))
    assert server.store is not None
    actions = [e.action for e in server.store.audit_entries("CPC-123")]
    assert actions.count("duty.done") == 1
