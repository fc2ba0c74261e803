"""A decline on a booked panel reaches the complaints manager as a card in Teams; from the card they
replace the member or move the meeting, through the real server, fake Graph and fake Teams channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.booking import PollResponsesJob
from bot.app import BOT_KEY
from casework.clock import LONDON
from graph.outbox import FileOutbox
from tests.e2e import fakes
from tests.e2e.fake_graph import FakeCredential, FakeGraph
from tests.e2e.server import BotServer, Clock
from tests.integration.graph_world import NOW, ORGANISER, REFERENCE, ROOM, SENDER, seed_case

MEMBERS = ["sm-police", "sm-health", "sm-education"]
NINETY = timedelta(minutes=90)


def email(pid: str) -> str:
    return f"{pid}@council.example"


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[tuple[BotServer, FakeGraph, fakes.FakeTeamsChannel]]:
    with FakeGraph() as graph, fakes.FakeTeamsChannel() as channel:
        srv = BotServer(
            tmp_path,
            Clock(NOW),
            graph_credential=FakeCredential(),
            extra={"graph_base_url": graph.base_url, "organiser_mailbox": ORGANISER, "sender_mailbox": SENDER},
        )
        with srv:
            assert srv.store is not None
            seed_case(srv.store)
            yield srv, graph, channel


def invoke(srv: BotServer, channel: fakes.FakeTeamsChannel, data: dict[str, Any]) -> Any:
    r = srv.post(fakes.invoke_adaptive_card_action(data["verb"], data, "a:cm", "29:cm", "cm", channel.service_url))
    assert r.status == 200, r
    return r.body["value"]


def text(card: dict[str, Any]) -> str:
    return json.dumps(card).replace("\\\\", "")


def test_decline_card_replace_then_move(world: tuple[BotServer, FakeGraph, fakes.FakeTeamsChannel]) -> None:
    srv, graph, channel = world
    assert srv.app is not None
    bot = srv.app[BOT_KEY]
    # The complaints manager has talked to the bot, so a card can reach them.
    srv.post(fakes.message("help", "a:cm", "29:cm", "cm", channel.service_url))
    start = datetime(2027, 1, 7, 9, tzinfo=LONDON)
    booking = srv.run(bot.booker.book("cm", REFERENCE, "panel", MEMBERS, ROOM, start, NINETY))
    assert booking.event_id is not None
    graph.respond(booking.event_id, email("sm-police"), "declined")
    assert srv.store is not None
    outbox = bot.delivery.outbox
    assert isinstance(outbox, FileOutbox)
    job = PollResponsesJob(bot.booker, srv.store, outbox, bot.send_decline_card)
    (prompt,) = srv.run(job.run())
    assert prompt.person_id == "sm-police"

    cards = [a["content"] for r in channel.requests() if r.conversation_id == "a:cm" for a in r.attachments]
    decline = cards[-1]
    assert "declined" in text(decline) and REFERENCE in text(decline)
    replace_action = next(a for a in decline["actions"] if a["verb"] == "panel.replace")["data"]
    slots_action = next(a for a in decline["actions"] if a["verb"] == "panel.slots")["data"]

    # Someone who is not a complaints manager cannot act on it.
    r = srv.post(
        fakes.invoke_adaptive_card_action(
            "panel.replace", {**replace_action, "joining": "sm-health-2"}, "a:pc", "29:pc", "pc-1", channel.service_url
        )
    )
    assert "Not done" in text(r.body["value"])

    done = invoke(srv, channel, {**replace_action, "joining": email("sm-health-2")})
    assert "Member replaced" in text(done)
    (patch,) = graph.requests("patch_event")
    assert email("sm-health-2") in json.dumps(patch.body)

    offer = invoke(srv, channel, slots_action)
    assert "New times" in text(offer)
    book = next(a for a in offer["actions"] if a["verb"] == "panel.reschedule")["data"]
    moved = invoke(srv, channel, book)
    assert "Meeting moved" in text(moved)
    assert len(graph.requests("patch_event")) == 2
    # A card drawn for another booking of this meeting is refused as stale and changes nothing.
    stale = invoke(srv, channel, {**replace_action, "transaction_id": "not-the-current-booking", "joining": "x"})
    assert "out of date" in text(stale)
    assert len(graph.requests("patch_event")) == 2
