"""Replies read as sentences, and unknown people are told who adds them (issue 14 item 6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from casework.wording import sentence
from tests.e2e import fakes
from tests.e2e.server import BotServer, Clock

CONTACT = "the safeguarding business support team (cpbs@example.org)"


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    with fakes.FakeTeamsChannel() as ch:
        ch.add_member("29:pc", "oid-pc", "pc@example.org", "Alex Wilber")
        ch.add_member("29:new", "oid-new", "new@example.org", "Pat New")
        ch.add_member("29:cm", "oid-cm", "cm@example.org", "Lee Gu")
        yield ch


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    with BotServer(tmp_path, Clock("2026-12-17T16:00"), extra={"admin_contact": CONTACT}) as srv:
        assert srv.store is not None
        srv.store.upsert_person(Person("oid-pc", "pc@example.org", "Alex Wilber", "police"))
        srv.store.upsert_person(Person("oid-chair", "chair@example.org", "Sam Okafor", "social_care"))
        held = parse_time("2026-12-17T14:00")
        srv.store.add_conference(
            Conference("CPC-123", "sussex", "initial", held_at=held, chair_id="oid-chair",
                       attendees=(Attendee("oid-pc", "police"),))
        )  # fmt: skip
        srv.store.add_conference(Conference("CPC-124", "sussex", "initial", held_at=held, chair_id="oid-chair"))
        srv.store.record_event(CaseEvent("CPC-123", "conference_held", held, "cli"))
        srv.store.upsert_person(Person("oid-cm", "cm@example.org", "Lee Gu", "social_care"))
        srv.store.grant_role(RoleGrant("oid-cm", "complaints_manager", "sussex"))
        yield srv


def replies(server: BotServer, channel: fakes.FakeTeamsChannel, uid: str, oid: str, text: str) -> str:
    server.post(fakes.message(text, f"a:{oid}", uid, oid, channel.service_url))
    sent = [r.text for r in channel.requests() if r.delivered and r.conversation_id == f"a:{oid}" and r.text]
    return sent[-1]


@pytest.mark.parametrize(
    "typed",
    [
        "dissent CPC-999 The plan is wrong",  # no such conference
        "dissent CPC-124 The plan is wrong",  # not an attendee
        "decide CPC-123",  # not the reviewing manager
        "audit CPC-123",  # not an auditor
        "status",  # the right form
        "complaint CPC-123",  # not the chair or a complaints manager
        "dissent amend CPC-123 a new reason here",  # nothing to amend
        "banana",
    ],
)
def test_every_refusal_is_a_sentence(server: BotServer, channel: fakes.FakeTeamsChannel, typed: str) -> None:
    text = replies(server, channel, "29:pc", "oid-pc", typed)
    assert text[0].isupper(), text
    assert text.endswith((".", "?", "!")) or text.startswith("Type: "), text
    assert ".." not in text and " ." not in text, text


def test_someone_unregistered_is_told_who_adds_people(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    text = replies(server, channel, "29:new", "oid-new", "deadlines")
    assert text == f"You are not registered with the conference challenge bot yet. Ask {CONTACT} to add you."
    assert "cpc" not in text.replace("cpbs", "")


def test_sentence() -> None:
    assert sentence("you already recorded dissent") == "You already recorded dissent."
    assert sentence("done (see 5.7.4)") == "Done (see 5.7.4)."
    assert sentence("Is it?") == "Is it?"
    assert sentence("Type: status CPC-123") == "Type: status CPC-123"
    assert sentence("  spaced   out  ") == "Spaced out."


def test_outcome_without_a_complaint_says_so_before_any_form(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    text = replies(server, channel, "29:cm", "oid-cm", "outcome CPC-123")
    assert text == "There is no complaint about CPC-123, so there is no outcome to record. Type: complaint CPC-123"


def test_a_late_dissent_says_the_window_closed_on_its_date(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    # Held Thu 17 Dec 2026 14:00 with no end recorded: 72 hours run to Sun 20 Dec 2026, 14:00 (001 5.7.4).
    server.clock.set("2026-12-21T09:00")
    server.post(fakes.message("dissent CPC-123 The plan is wrong", "a:oid-pc", "29:pc", "oid-pc", channel.service_url))
    card = next(
        a["content"] for r in reversed(channel.requests()) if r.conversation_id == "a:oid-pc" for a in r.attachments
    )
    shown = str(card)
    assert "closed on Sun 20 Dec 2026, 14:00" in shown and "closes" not in shown
