"""Setting a conference up from Teams (issue 14 item 5), over the fake Teams channel and the real
server: ``conference new`` (a card), ``attendee add @person police`` and ``attendee remove @person``
in the meeting chat, chair only and audited, the person found by their mention and the chat's roster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casework.records import Attendee, Person, RoleGrant
from tests.e2e import fakes
from tests.e2e.server import BotServer, Clock
from tests.e2e.test_named_cards import text_of

PEOPLE = {
    # oid: (Teams user id, email, display name, agency)
    "oid-chair": ("29:chair", "chair@example.org", "Sam Okafor", "social_care"),
    "oid-pc": ("29:pc", "pc@example.org", "Alex Wilber", "police"),
    "oid-nurse": ("29:nurse", "nurse@example.org", "Megan Bowen", "health"),
}
CHAT = "19:meeting_abc@thread.v2"
BOT = ("28:bot-id", "Conference challenge bot")


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    with fakes.FakeTeamsChannel() as ch:
        for oid, (uid, email, name, _agency) in PEOPLE.items():
            ch.add_member(uid, oid, email, name)
        # In the chat's roster, but not registered with the bot.
        ch.add_member("29:visitor", "oid-visitor", "visitor@example.org", "Lee Gu")
        yield ch


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    # Thu 17 Dec 2026, 16:00; the conference is set up for 14:00 that day (already held).
    with BotServer(tmp_path, Clock("2026-12-17T16:00")) as srv:
        assert srv.store is not None
        for oid, (_uid, email, name, agency) in PEOPLE.items():
            srv.store.upsert_person(Person(oid, email, name, agency, None))
        srv.store.grant_role(RoleGrant("oid-chair", "chair", "sussex"))
        yield srv


def in_chat(server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, text: str, *mentioned: str) -> Any:
    """``text`` typed in the meeting chat by ``oid``, addressed to the bot and mentioning ``mentioned``."""
    mentions = [BOT, *((PEOPLE.get(m, ("29:visitor",))[0], "someone") for m in mentioned)]
    uid = PEOPLE[oid][0]
    activity = fakes.message(
        f"<at>{BOT[1]}</at> {text}",
        CHAT,
        uid,
        oid,
        channel.service_url,
        conversation_type="groupChat",
        mentions=mentions,
        bot_id=BOT[0],
    )
    return server.post(activity)


def last_reply(channel: fakes.FakeTeamsChannel, conversation: str = CHAT) -> str:
    """What the bot last posted to the conversation, as read on screen (a card's text or the text)."""
    posted = [r for r in channel.requests() if r.delivered and r.conversation_id == conversation]
    assert posted, "the bot posted nothing"
    last = posted[-1]
    cards = [
        a["content"] for a in last.attachments if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]
    return text_of(cards[0]) if cards else (last.text or "")


def last_card(channel: fakes.FakeTeamsChannel, conversation: str = CHAT) -> dict[str, Any]:
    posted = [r for r in channel.requests() if r.delivered and r.conversation_id == conversation]
    card = posted[-1].attachments[0]["content"]
    assert isinstance(card, dict)
    return card


def submit(
    server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, verb: str, data: dict[str, Any], **kw: Any
) -> Any:
    conv = kw.pop("conversation", CHAT)
    kind = kw.pop("conversation_type", "groupChat")
    activity = fakes.invoke_adaptive_card_action(
        verb, data, conv, PEOPLE[oid][0], oid, channel.service_url, conversation_type=kind, bot_id=BOT[0]
    )
    return server.post(activity)


def audit_actions(server: BotServer, reference: str) -> list[tuple[str, dict[str, Any]]]:
    assert server.store is not None
    return [(e.action, e.detail) for e in server.store.audit_entries(reference)]


def set_up(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    in_chat(server, channel, "oid-chair", "conference new")
    form = last_card(channel)
    assert "Set up a conference" in text_of(form)
    action = next(a for a in form["actions"] if a.get("verb") == "conference.submit")
    data = {**action["data"], "reference": "cpc-777", "type": "initial", "date": "2026-12-17", "time": "14:00"}
    r = submit(server, channel, "oid-chair", "conference.submit", data)
    assert r.status == 200
    shown = text_of(r.body["value"])
    assert "Conference CPC-777 is set up and linked to this chat" in shown
    # 14:00 on the day, two hours before the clock's 16:00: held, not scheduled.
    assert "Held: Thu 17 Dec 2026, 14:00" in shown


def test_the_chair_sets_up_the_conference_and_its_attendees_from_the_meeting_chat(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    set_up(server, channel)
    assert server.store is not None
    conference = server.store.get_conference("CPC-777")
    assert conference is not None
    assert (conference.chair_id, conference.meeting_chat_id, conference.type) == ("oid-chair", CHAT, "initial")
    # Held at 14:00 London (UTC in December), so it is the held time, not a scheduled one.
    assert conference.held_at is not None and conference.held_at.isoformat().startswith("2026-12-17T14:00")

    in_chat(server, channel, "oid-chair", "attendee add <at>Megan Bowen</at> health", "oid-nurse")
    assert "Megan Bowen (health) is now an attendee of CPC-777" in last_reply(channel)
    conference = server.store.get_conference("CPC-777")
    assert conference is not None and conference.attendees == (Attendee("oid-nurse", "health"),)
    # Her attendance gives her the right to dissent: typed in the linked chat, with no reference.
    in_chat(server, channel, "oid-nurse", "dissent The threshold for a plan was not applied")
    assert server.store.dissents_for("CPC-777")[0].person_id == "oid-nurse"
    # Once she has dissented, her attendance is evidence: it stays.
    in_chat(server, channel, "oid-chair", "attendee remove <at>Megan Bowen</at>", "oid-nurse")
    assert "has recorded dissent on CPC-777, so their attendance is part of the record" in last_reply(channel)

    in_chat(server, channel, "oid-chair", "attendee add <at>Alex Wilber</at> Police", "oid-pc")
    in_chat(server, channel, "oid-chair", "attendee add <at>Alex Wilber</at> police", "oid-pc")
    assert "Alex Wilber is already an attendee of CPC-777. Nothing was changed." in last_reply(channel)
    in_chat(server, channel, "oid-chair", "attendee remove <at>Alex Wilber</at>", "oid-pc")
    assert "Alex Wilber is no longer an attendee of CPC-777" in last_reply(channel)
    conference = server.store.get_conference("CPC-777")
    assert conference is not None and [a.person_id for a in conference.attendees] == ["oid-nurse"]

    trail = audit_actions(server, "CPC-777")
    changes = [(a, d) for a, d in trail if a.startswith("attendee.")]
    assert changes == [
        ("attendee.added", {"person": "oid-nurse", "agency": "health"}),
        ("attendee.added", {"person": "oid-pc", "agency": "police"}),
        ("attendee.removed", {"person": "oid-pc", "agency": "police"}),
    ]
    # Read in words by a Head of Safeguarding: who changed the attendance, and whose.
    server.store.grant_role(RoleGrant("oid-pc", "head_of_safeguarding", "sussex"))
    server.post(fakes.message("audit CPC-777", "a:oid-pc", PEOPLE["oid-pc"][0], "oid-pc", channel.service_url))
    lines = last_reply(channel, "a:oid-pc")
    assert "Sam Okafor (social care) added the conference" in lines
    assert "Sam Okafor (social care) added Megan Bowen (health) as an attendee" in lines
    assert "Sam Okafor (social care) took Alex Wilber (police) off the attendance list" in lines
    added = next(d for a, d in trail if a == "conference.added")
    assert added["set_up"] == "teams" and added["linked"] is True
    # No names in the audit trail: people by id only.
    assert "Megan" not in json.dumps(trail) and "Alex" not in json.dumps(trail)


def test_only_the_chair_changes_attendance_and_bad_commands_say_the_right_form(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    set_up(server, channel)
    in_chat(server, channel, "oid-pc", "attendee add <at>Megan Bowen</at> health", "oid-nurse")
    assert "Only the chair of conference CPC-777 can do this." in last_reply(channel)
    in_chat(server, channel, "oid-chair", "attendee add health")
    assert last_reply(channel).startswith(
        "Mention the person (type @ and their name). Type: attendee add @person police"
    )
    in_chat(server, channel, "oid-chair", "attendee add <at>A</at> <at>B</at> health", "oid-nurse", "oid-pc")
    assert last_reply(channel).startswith("Mention one person at a time.")
    in_chat(server, channel, "oid-chair", "attendee add <at>Megan Bowen</at> nursing", "oid-nurse")
    assert "Agency 'nursing' is not one I know: use one of police, social care, education, health" in last_reply(
        channel
    )
    in_chat(server, channel, "oid-chair", "attendee add <at>Lee Gu</at> health", "oid-visitor")
    reply = last_reply(channel)
    assert reply.startswith("That person is not registered with the conference challenge bot yet")
    assert "cpc people" not in reply
    in_chat(server, channel, "oid-chair", "attendee")
    assert last_reply(channel) == "Type: attendee add @person police"
    assert server.store is not None
    conference = server.store.get_conference("CPC-777")
    assert conference is not None and conference.attendees == ()
    assert not [a for a, _ in audit_actions(server, "CPC-777") if a.startswith("attendee.")]


def test_a_one_to_one_chat_links_nothing_and_a_non_chair_cannot_set_up(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    personal = "a:oid-chair"
    uid = PEOPLE["oid-chair"][0]
    server.post(fakes.message("attendee add health", personal, uid, "oid-chair", channel.service_url))
    assert last_reply(channel, personal).startswith("Add attendees in the conference's meeting chat or a group chat")
    server.post(fakes.message("conference new", personal, uid, "oid-chair", channel.service_url))
    form = last_card(channel, personal)
    assert "It will be linked to this chat" not in text_of(form)
    # A card whose data names a chat links nothing: the chat comes from where it was answered.
    data = {"default_area": "sussex", "reference": "CPC-778", "type": "review", "date": "2026-12-21", "cpc.chat": CHAT}
    # Without a start time it comes back on the form, asking for one.
    r = submit(
        server, channel, "oid-chair", "conference.submit", data, conversation=personal, conversation_type="personal"
    )
    assert "Not set up: the start time is required" in text_of(r.body["value"])
    data["time"] = "10:00"
    r = submit(
        server, channel, "oid-chair", "conference.submit", data, conversation=personal, conversation_type="personal"
    )
    assert "Conference CPC-778 is set up, with you as its chair. Link it from its meeting chat" in text_of(
        r.body["value"]
    )
    assert server.store is not None
    conference = server.store.get_conference("CPC-778")
    assert conference is not None and conference.meeting_chat_id is None
    # Mon 21 Dec is still to come: the scheduled time, not a held one.
    assert conference.held_at is None and conference.scheduled_at is not None
    # A reference that is a name comes back on the form, with why, and nothing is stored.
    data = {**data, "reference": "SMITH"}
    r = submit(
        server, channel, "oid-chair", "conference.submit", data, conversation=personal, conversation_type="personal"
    )
    shown = text_of(r.body["value"])
    assert "Not set up: that is not a case reference of this authority" in shown and "Set up a conference" in shown

    pc = PEOPLE["oid-pc"][0]
    server.post(fakes.message("conference new", "a:oid-pc", pc, "oid-pc", channel.service_url))
    reply = last_reply(channel, "a:oid-pc")
    assert "Setting up a conference is for the area's chairs and administrators" in reply


def test_a_non_attendee_is_told_how_the_chair_can_add_them(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    set_up(server, channel)
    in_chat(server, channel, "oid-pc", "dissent The threshold for a plan was not applied")
    reply = last_reply(channel)
    assert reply.startswith("Only professionals who attended conference CPC-777 may dissent from it")
    assert "in the meeting chat they type attendee add, mention you and name your agency" in reply
