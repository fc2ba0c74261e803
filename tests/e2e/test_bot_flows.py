"""Whole processes over HTTP: the real server, a fake Teams channel, the real Agents SDK stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from tests.e2e import fakes
from tests.e2e.server import BotServer, Clock

PEOPLE = {
    # person id (Entra object id): (Teams user id, email, agency)
    "oid-chair": ("29:chair", "chair@example.org", "social_care"),
    "oid-pc": ("29:pc", "pc@example.org", "police"),
    "oid-nurse": ("29:nurse", "nurse@example.org", "health"),
    "oid-hos": ("29:hos", "hos@example.org", "social_care"),
    "oid-cm": ("29:cm", "cm@example.org", "social_care"),
    "oid-lm": ("29:lm", "lm@example.org", "social_care"),
}


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    with fakes.FakeTeamsChannel() as ch:
        for oid, (uid, email, _agency) in PEOPLE.items():
            ch.add_member(uid, oid, email, oid)
        yield ch


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    with BotServer(tmp_path, Clock("2026-12-17T16:00")) as srv:
        store = srv.store
        assert store is not None
        for oid, (_uid, email, agency) in PEOPLE.items():
            store.upsert_person(Person(oid, email, oid, agency, "oid-lm" if oid == "oid-chair" else None))
        store.grant_role(RoleGrant("oid-hos", "head_of_safeguarding", "sussex"))
        store.grant_role(RoleGrant("oid-cm", "complaints_manager", "sussex"))
        held = parse_time("2026-12-17T14:00")
        store.add_conference(
            Conference(
                "CPC-123",
                "sussex",
                "initial",
                held_at=held,
                chair_id="oid-chair",
                attendees=(Attendee("oid-pc", "police"), Attendee("oid-nurse", "health")),
            )
        )
        store.record_event(CaseEvent("CPC-123", "conference_held", held, "test"))
        yield srv


def say(
    server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, text: str, conv: str | None = None, **kw: Any
) -> Any:
    uid = PEOPLE[oid][0]
    activity = fakes.message(text, conv or f"a:{oid}", uid, oid, channel.service_url, **kw)
    return server.post(activity)


def act(server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, verb: str, data: dict[str, Any]) -> Any:
    uid = PEOPLE[oid][0]
    return server.post(fakes.invoke_adaptive_card_action(verb, data, f"a:{oid}", uid, oid, channel.service_url))


def cards_to(channel: fakes.FakeTeamsChannel, conv: str) -> list[dict[str, Any]]:
    return [
        a["content"]
        for r in channel.requests()
        if r.delivered and r.conversation_id == conv
        for a in r.attachments
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def texts_to(channel: fakes.FakeTeamsChannel, conv: str) -> list[str]:
    return [r.text for r in channel.requests() if r.delivered and r.conversation_id == conv and r.text]


def card_text(card: dict[str, Any]) -> str:
    """The card as text, with the renderer's Markdown escapes removed, for readable assertions."""
    return json.dumps(card, ensure_ascii=False).replace("\\\\", "")


def find_action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    for a in card.get("actions", []):
        if a.get("verb") == verb:
            data = a["data"]
            assert isinstance(data, dict)
            return data
    raise AssertionError(f"no {verb} action in {card_text(card)[:300]}")


def test_health(server: BotServer) -> None:
    r = server.get("/healthz")
    assert r.status == 200 and r.body["status"] == "ok" and r.body["authenticated"] is False


def test_whole_dissent_flow(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    # The chair and the reviewing manager have talked to the bot before, so it can reach them.
    for oid in ("oid-chair", "oid-hos", "oid-lm"):
        assert say(server, channel, oid, "help").status in (200, 201)
    before = len(channel.requests())

    r = say(server, channel, "oid-pc", "<at>Conference bot</at> DISSENT cpc-123 Threshold for a plan is not met")
    assert r.status in (200, 201)
    confirmation = cards_to(channel, "a:oid-pc")[-1]
    text = card_text(confirmation)
    assert "Dissent recorded: CPC-123" in text
    assert "closes Sun 20 Dec 2026, 14:00" in text
    assert "end of Tue 5 Jan 2027" in text  # the reviewing manager's decision, 10 working days

    # The chair's prompt was committed with the dissent, as a row in the notice outbox; the sweep
    # (woken by the turn) delivers it, once.
    server.run_sweep()
    prompts = [c for c in cards_to(channel, "a:oid-chair") if "Dissent from CPC-123" in card_text(c)]
    assert len(prompts) == 1
    chair_card = prompts[0]
    data = find_action(chair_card, "dissent.record")
    # Someone else pressing the chair's button changes nothing.
    r = act(server, channel, "oid-pc", "dissent.record", data)
    assert r.status == 200 and "Only the chair" in card_text(r.body)
    r = act(server, channel, "oid-chair", "dissent.record", data)
    assert r.status == 200
    assert r.body["statusCode"] == 200 and r.body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Dissent recorded" in card_text(r.body["value"])
    assert "Your line manager and the reviewing manager are being told." in card_text(r.body["value"])
    # A second click, or a replayed payload, gets the first answer, says so, and changes nothing.
    r = act(server, channel, "oid-chair", "dissent.record", data)
    assert "Dissent recorded" in card_text(r.body["value"])
    assert "it is recorded once" in card_text(r.body["value"])

    server.run_sweep()
    assert "Dissent recorded: CPC-123" in card_text(cards_to(channel, "a:oid-lm")[-1])
    decision_card = cards_to(channel, "a:oid-hos")[-1]
    assert "Decide on a dissent: CPC-123" in card_text(decision_card)
    data = find_action(decision_card, "dissent.decide")
    r = act(server, channel, "oid-chair", "dissent.decide", {**data, "decision": "uphold", "reasons": "x" * 20})
    assert "Deciding on a dissent is for" in card_text(r.body)
    server.clock.set("2027-01-04T10:00")
    r = act(
        server,
        channel,
        "oid-hos",
        "dissent.decide",
        {**data, "decision": "uphold", "reasons": "The threshold was misapplied"},
    )
    assert "Dissent upheld" in card_text(r.body["value"])
    server.run_sweep()
    notice = card_text(cards_to(channel, "a:oid-pc")[-1])
    # The decision, who made it and the reasons given, to the professional who dissented (5.7.7(3)).
    assert "Dissent upheld: CPC-123" in notice and "The threshold was misapplied" in notice
    assert "Decided by" in notice and "oid-hos" in notice

    say(server, channel, "oid-hos", "status CPC-123")
    timeline = card_text(cards_to(channel, "a:oid-hos")[-1])
    for title in (
        "Raise dissent from the conference decision",
        "Reviewing manager decides",
        "Hold the reconvened conference",
    ):
        assert title in timeline
    assert "Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.7(4)" in timeline
    assert "001_554f9f91" not in timeline  # the procedure by name, never its seed file
    assert "end of Mon 25 Jan 2027" in timeline  # reconvene: 15 working days from Mon 4 Jan 2027
    assert server.store is not None
    assert [e.action for e in server.store.audit_entries("CPC-123")] == [
        "dissent.raised",
        "dissent.recorded",
        "dissent.upheld",
    ]
    assert len(channel.requests()) > before


def test_complaint_through_stage_two(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    server.clock.set("2026-12-23T12:00")
    r = say(server, channel, "oid-pc", "complaint CPC-123")
    assert "Recording a complaint is for" in texts_to(channel, "a:oid-pc")[-1]
    say(server, channel, "oid-cm", "complaint CPC-123")
    form = cards_to(channel, "a:oid-cm")[-1]
    data = find_action(form, "complaint.submit")
    r = act(
        server,
        channel,
        "oid-cm",
        "complaint.submit",
        {**data, "received": "2026-12-23", "complainant": "parent", "grounds": "decision", "summary": "plan"},
    )
    assert "Complaint recorded" in card_text(r.body["value"])
    server.clock.set("2027-01-20T12:00")
    for event, when in (
        ("stage1_meeting_held", "2027-01-08"),
        ("stage1_response_sent", "2027-01-15"),
        ("stage2_requested", "2027-01-19"),
    ):
        say(server, channel, "oid-cm", "stage2 CPC-123")
        data = find_action(cards_to(channel, "a:oid-cm")[-1], "step.submit")
        r = act(server, channel, "oid-cm", "step.submit", {**data, "event": event, "date": when, "time": "10:00"})
        assert "Recorded" in card_text(r.body["value"]), card_text(r.body)
    # Replaying the last payload gets the first answer and changes nothing.
    r = act(
        server,
        channel,
        "oid-cm",
        "step.submit",
        {**data, "event": "stage2_requested", "date": "2027-01-19", "time": "10:00"},
    )
    assert "Recorded: Stage 2 requested" in card_text(r.body["value"])
    assert "it is recorded once" in card_text(r.body["value"])
    say(server, channel, "oid-cm", "status CPC-123")
    timeline = card_text(cards_to(channel, "a:oid-cm")[-1])
    assert "Stage 2: complaint meeting arranged and held" in timeline
    assert "end of Tue 16 Feb 2027" in timeline  # 28 days from Tue 19 Jan 2027


def test_malformed_commands_get_the_right_form(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    say(server, channel, "oid-pc", "status")
    assert texts_to(channel, "a:oid-pc")[-1] == "Type: status CPC-123"
    say(server, channel, "oid-pc", "frobnicate now")
    assert texts_to(channel, "a:oid-pc")[-1].endswith("Type help to see how.")
    say(server, channel, "oid-pc", "statsu CPC-123")
    assert texts_to(channel, "a:oid-pc")[-1] == "Did you mean status? Type: status CPC-123"
    say(server, channel, "oid-pc", "what")
    assert "Conference challenge bot" in card_text(cards_to(channel, "a:oid-pc")[-1])
    say(server, channel, "oid-pc", "status Smith")
    assert "case reference" in texts_to(channel, "a:oid-pc")[-1]


def test_a_name_typed_as_a_reference_is_refused_in_a_short_reply(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    refused = (
        "That is not a case reference of this authority: references look like CPC- followed by digits, "
        r"for example CPC-123; names are never used."
    )
    for typed in ("dissent SMITH-2015 The threshold for a plan is not met", "status JANE-SMITH-1", "decide Smith2"):
        say(server, channel, "oid-pc", typed)
        assert texts_to(channel, "a:oid-pc")[-1] == refused, typed
    assert server.store is not None
    # The only entry: the account linked on its first turn (an identity, no case action).
    assert [e.action for e in server.store.audit_entries()] == ["identity.linked"]
    assert server.store.dissents_for("CPC-123") == []


def test_meeting_chat_link_then_dissent_without_reference(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    chat = "19:meeting_xyz@thread.v2"
    say(server, channel, "oid-chair", "conference link CPC-123", conv=chat, conversation_type="groupChat")
    assert "linked to conference CPC-123" in card_text(cards_to(channel, chat)[-1])
    end = fakes.meeting_end(
        chat, "2026-12-17T15:30:00Z", channel.service_url, user_id="29:chair", aad_object_id="oid-chair"
    )
    assert server.post(end).status in (200, 201)
    say(server, channel, "oid-pc", "dissent Threshold for a plan is not met", conv=chat, conversation_type="groupChat")
    assert "closes Sun 20 Dec 2026, 15:30" in card_text(cards_to(channel, chat)[-1])
    # The chair, who acts next, is mentioned in the chat by their Entra object id (the Teams entity form).
    (entity,) = cards_to(channel, chat)[-1]["msteams"]["entities"]
    assert entity == {
        "type": "mention",
        "text": "<at>oid-chair</at>",
        "mentioned": {"id": "oid-chair", "name": "oid-chair"},
    }


def test_a_one_to_one_chat_is_never_linked_and_a_link_can_be_undone(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    """Issue 14 item 5: ``conference link`` in a 1:1 chat is refused (every later dissent typed there
    went to that conference); in a group chat the chair can undo it, and dissent there then needs its
    reference again."""
    assert server.store is not None
    say(server, channel, "oid-chair", "conference link CPC-123")
    assert texts_to(channel, "a:oid-chair")[-1] == (
        "Link a conference from its meeting chat or a group chat, not a one-to-one chat."
    )
    conference = server.store.get_conference("CPC-123")
    assert conference is not None and conference.meeting_chat_id is None
    chat = "19:group_abc@thread.v2"
    say(server, channel, "oid-chair", "conference link CPC-123", conv=chat, conversation_type="groupChat")
    say(server, channel, "oid-pc", "conference unlink CPC-123", conv=chat, conversation_type="groupChat")
    assert texts_to(channel, chat)[-1].startswith("Only the chair of conference CPC-123")
    say(server, channel, "oid-chair", "conference unlink CPC-123", conv=chat, conversation_type="groupChat")
    assert "no longer linked to conference CPC-123" in card_text(cards_to(channel, chat)[-1])
    conference = server.store.get_conference("CPC-123")
    assert conference is not None and conference.meeting_chat_id is None
    say(server, channel, "oid-pc", "dissent Threshold for a plan is not met", conv=chat, conversation_type="groupChat")
    assert texts_to(channel, chat)[-1] == "Which conference? Type: dissent CPC-123 <your reason>"
    assert server.store.dissents_for("CPC-123") == []
    assert [e.action for e in server.store.audit_entries("CPC-123")] == ["conference.linked", "conference.unlinked"]


def test_unknown_person_is_told_how_to_register(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    activity = fakes.message("status CPC-123", "a:x", "29:stranger", "oid-stranger", channel.service_url)
    server.post(activity)
    assert "not registered" in texts_to(channel, "a:x")[-1]


def test_bad_requests_are_4xx_never_5xx(server: BotServer) -> None:
    assert server.post(None, raw=b"{not json").status == 400
    assert server.post({"hello": "world"}).status == 400
    assert server.post([1, 2, 3]).status == 400
