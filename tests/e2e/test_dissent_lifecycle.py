"""The dissent lifecycle over HTTP (001 5.7.4-5.7.7): amend and withdraw before the chair records it,
decline a late one with reasons, and no second dissent once one is decided.

Conference CPC-123 (Pan-Sussex) held Thu 17 Dec 2026 14:00: the 72-hour window closes Sun 20 Dec 14:00.
"""

from __future__ import annotations

from typing import Any

from tests.e2e import fakes
from tests.e2e.server import BotServer
from tests.e2e.test_bot_flows import act, card_text, cards_to, channel, say, server, texts_to

__all__ = ["channel", "server"]  # the fixtures, shared with test_bot_flows


def last_reply(channel: fakes.FakeTeamsChannel, oid: str) -> str:
    cards = [card_text(c) for c in cards_to(channel, f"a:{oid}")]
    texts = texts_to(channel, f"a:{oid}")
    return (cards[-1] if cards else "") + " " + (texts[-1] if texts else "")


def chair_prompts(channel: fakes.FakeTeamsChannel) -> list[dict[str, Any]]:
    return [c for c in cards_to(channel, "a:oid-chair") if "Dissent from CPC-123" in card_text(c)]


def test_amend_then_withdraw_before_the_chair_records(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    say(server, channel, "oid-chair", "help")
    say(server, channel, "oid-pc", "dissent CPC-123 Threshold for a plan is not met")
    # The same dissent again (a retry) gets the first answer and queues nothing new.
    say(server, channel, "oid-pc", "dissent CPC-123 Threshold for a plan is not met")
    assert "Dissent recorded: CPC-123" in last_reply(channel, "oid-pc")
    # A different reason while the first is open is not dropped silently: the reply says how to amend.
    say(server, channel, "oid-pc", "dissent CPC-123 Another reason entirely, typed later")
    assert "dissent amend CPC-123" in last_reply(channel, "oid-pc")
    say(server, channel, "oid-pc", "dissent amend CPC-123 The risk assessment was not shared in time")
    assert "Your reason was amended" in last_reply(channel, "oid-pc")
    server.run_sweep()
    prompts = chair_prompts(channel)
    # The first prompt, and one more showing the amended reason.
    assert len(prompts) == 2
    assert "risk assessment was not shared" in card_text(prompts[-1])
    assert server.store is not None
    (dissent,) = server.store.dissents_for("CPC-123")
    assert dissent.reason == "The risk assessment was not shared in time"

    say(server, channel, "oid-pc", "dissent withdraw CPC-123")
    assert "Your dissent was withdrawn" in last_reply(channel, "oid-pc")
    (dissent,) = server.store.dissents_for("CPC-123")
    assert dissent.state == "withdrawn"
    # The chair's old card no longer acts: the dissent is not in the state it was drawn for.
    data = next(a["data"] for a in prompts[-1]["actions"] if a.get("verb") == "dissent.record")
    r = act(server, channel, "oid-chair", "dissent.record", data)
    assert "withdrawn" in card_text(r.body["value"])
    assert server.store.dissents_for("CPC-123")[0].state == "withdrawn"
    actions = [e.action for e in server.store.audit_entries("CPC-123")]
    assert actions == ["dissent.raised", "dissent.amended", "dissent.withdrawn"]


def test_a_late_dissent_can_be_declined_and_a_decided_one_is_not_raised_again(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    say(server, channel, "oid-chair", "help")
    server.clock.set("2026-12-21T09:00")  # after the window closed (Sun 20 Dec 14:00)
    say(server, channel, "oid-pc", "dissent CPC-123 Threshold for a plan is not met")
    server.run_sweep()
    (prompt,) = chair_prompts(channel)
    text = card_text(prompt)
    assert "after the window closed" in text and "decline it giving your reasons" in text
    show = next(a for a in prompt["actions"] if a["type"] == "Action.ShowCard")
    decline = show["card"]["actions"][0]
    assert decline["verb"] == "dissent.decline"
    # Reasons are required.
    r = act(server, channel, "oid-chair", "dissent.decline", {**decline["data"], "reasons": "late"})
    assert "at least 10 characters" in card_text(r.body["value"])
    r = act(
        server,
        channel,
        "oid-chair",
        "dissent.decline",
        {**decline["data"], "reasons": "Raised a day after the window with no reason for the delay"},
    )
    assert "Late dissent declined" in card_text(r.body["value"])
    # The same card again changes nothing.
    r = act(server, channel, "oid-chair", "dissent.record", {**decline["data"], "verb": "dissent.record"})
    assert "already dealt with: it was declined by the chair as late" in card_text(r.body["value"])
    server.run_sweep()
    assert "Late dissent declined: CPC-123" in card_text(cards_to(channel, "a:oid-pc")[-1])
    # A second dissent from the same person is refused, saying what was decided and when.
    say(server, channel, "oid-pc", "dissent CPC-123 Trying again with the same concern")
    reply = last_reply(channel, "oid-pc")
    assert "declined by the chair as late on Mon 21 Dec 2026, 09:00" in reply
    assert server.store is not None
    assert len(server.store.dissents_for("CPC-123")) == 1


def test_an_on_time_dissent_cannot_be_declined(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    say(server, channel, "oid-chair", "help")
    say(server, channel, "oid-pc", "dissent CPC-123 Threshold for a plan is not met")
    server.run_sweep()
    (prompt,) = chair_prompts(channel)
    assert not any(a["type"] == "Action.ShowCard" for a in prompt["actions"])
    data = next(a["data"] for a in prompt["actions"] if a.get("verb") == "dissent.record")
    r = act(server, channel, "oid-chair", "dissent.decline", {**data, "reasons": "I would rather not record it"})
    assert "cannot be declined" in card_text(r.body["value"])
    assert server.store is not None
    assert server.store.dissents_for("CPC-123")[0].state == "raised"


def test_a_not_upheld_confirmation_says_nothing_of_an_earlier_upheld_dissent(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    for oid in ("oid-chair", "oid-hos"):
        say(server, channel, oid, "help")
    say(server, channel, "oid-pc", "dissent CPC-123 Threshold for a plan is not met")
    say(server, channel, "oid-nurse", "dissent CPC-123 The category of concern is wrong")
    server.run_sweep()
    for prompt in chair_prompts(channel):
        data = next(a["data"] for a in prompt["actions"] if a.get("verb") == "dissent.record")
        assert "Dissent recorded" in card_text(act(server, channel, "oid-chair", "dissent.record", data).body["value"])
    server.run_sweep()
    decisions = [c for c in cards_to(channel, "a:oid-hos") if "Decide on a dissent" in card_text(c)]
    assert len(decisions) == 2
    by_agency = {("police" if "police" in card_text(c) else "health"): c for c in decisions}

    def decide(card: dict[str, Any], decision: str) -> str:
        data = next(a["data"] for a in card["actions"] if a.get("verb") == "dissent.decide")
        body = {**data, "decision": decision, "reasons": "Considered with the chair and the agency"}
        return card_text(act(server, channel, "oid-hos", "dissent.decide", body).body["value"])

    upheld = decide(by_agency["police"], "uphold")
    assert "Dissent upheld" in upheld and "Hold the reconvened conference" in upheld
    not_upheld = decide(by_agency["health"], "not_upheld")
    assert "Dissent not upheld" in not_upheld
    assert "reconven" not in not_upheld.lower()
