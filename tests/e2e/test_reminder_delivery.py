"""Reminder delivery through the real server's sweep and Agents SDK stack against a fake Teams channel
that refuses: 429 with Retry-After and 502 are retried, 403 (blocked) and a person Teams cannot reach
go by email, too many failures go by email with an admin alert, and nothing is lost. A met deadline's
card is then updated in place (PUT to the activity id the channel gave)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from cards.render import escape_markdown
from casework.clock import parse_time
from casework.records import Person
from casework.reminders import Reminder, reminder_key
from tests.e2e import fakes
from tests.e2e.server import BotServer, Clock

NOW = "2027-01-04T10:00"
PEOPLE = ["ok429", "blocked", "flaky", "down", "noref"]


def conversation_ref(service_url: str, person: str) -> str:
    """A stored reference as ``bot.edge.reference_to_json`` writes it, for a 1:1 chat on the fake."""
    return json.dumps(
        {
            "activityId": None,
            "bot": {"id": fakes.BOT_ID, "name": "Conference challenge bot"},
            "channelId": "msteams",
            "conversation": {"id": f"a:{person}", "conversationType": "personal"},
            "serviceUrl": service_url,
            "user": {"id": f"29:{person}"},
            "locale": "en-GB",
        },
        sort_keys=True,
    )


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    with fakes.FakeTeamsChannel() as ch:
        yield ch


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    extra = {
        "sweep_interval_seconds": 3600.0,  # the test runs each sweep itself
        "reminder_retries": 3,
        "reminder_failure_threshold": 3,
        "admin_email": "admin@example.org",
    }
    with BotServer(tmp_path, Clock(NOW), extra=extra) as srv:
        yield srv


def emails(outbox: Path) -> dict[str, list[str]]:
    """Recipient -> subjects of the .eml files in the outbox."""
    out: dict[str, list[str]] = {}
    for path in sorted(outbox.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes())
        out.setdefault(str(msg["To"]), []).append(str(msg["Subject"]))
    return out


def test_refusals_are_retried_or_emailed_and_nothing_is_lost(
    server: BotServer, channel: fakes.FakeTeamsChannel, tmp_path: Path
) -> None:
    store = server.store
    assert store is not None
    now = server.clock()
    planned = []
    for person in PEOPLE:
        store.upsert_person(Person(person, f"{person}@example.org"))
        if person != "noref":
            store.save_conversation_ref(person, conversation_ref(channel.service_url, person))
        at = now - timedelta(hours=1)
        planned.append(
            Reminder(
                reminder_key("CPC-1", "dissent-decision", person, at, "before-1"),
                "CPC-1",
                "sussex",
                "dissent",
                "dissent-decision",
                "before-1",
                person,
                "responsible",
                at,
                parse_time("2027-01-05T23:59:59"),
                "pending",
            )
        )
    store.replace_reminders("CPC-1", planned, frozenset(), now)
    channel.fail_next("a:ok429", 429, times=1, retry_after=1)
    channel.fail_next("a:blocked", 403, body=fakes.BLOCKED_BODY)
    channel.fail_next("a:flaky", 502, times=2)
    channel.fail_next("a:down", 502, times=100)

    report = server.run_sweep()

    statuses = {p: [r.status for r in channel.requests() if r.conversation_id == f"a:{p}"] for p in PEOPLE}
    assert statuses == {
        "ok429": [429, 200],  # retried after the channel's Retry-After
        "blocked": [403],  # not retried: the person blocked the bot
        "flaky": [502, 502, 200],  # retried with backoff
        "down": [502, 502, 502],  # three failures reach the threshold
        "noref": [],
    }
    assert (report.sent, report.emailed, report.retried, report.failed) == (2, 3, 0, 0)
    mail = emails(tmp_path / "outbox")
    assert set(mail) == {"blocked@example.org", "down@example.org", "noref@example.org", "admin@example.org"}
    assert mail["blocked@example.org"] == ["Due in 1 working day: CPC-1"]
    assert mail["admin@example.org"] == ["Reminder handed over to email"]
    rows = {r.person_id: r for r in store.reminders_for("CPC-1")}
    assert {p: (r.state, r.channel) for p, r in rows.items()} == {
        "ok429": ("sent", "teams"),
        "blocked": ("emailed", "email"),
        "flaky": ("sent", "teams"),
        "down": ("emailed", "email"),
        "noref": ("emailed", "email"),
    }
    assert rows["down"].attempts == 3
    # The delivered cards name the deadline, the rule's citation and carry the button for what is due.
    card = next(r for r in channel.activities() if r.conversation_id == "a:ok429").attachments[0]["content"]
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    # ... by the procedure's name, linked to its public address (never the seed file's name).
    cited = escape_markdown("Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.7(3)-(4)")
    assert facts["Rule"] == f"[{cited}](http://sussexchildprotection.procedures.org.uk)"
    assert facts["Due"] == "end of Tue 5 Jan 2027"
    assert card["actions"][0]["verb"] == "open.decide"
    assert card["actions"][0]["data"] == {
        "verb": "open.decide",
        "reference": "CPC-1",
        "rule": "dissent-decision",
        "command": "",
    }

    # A second sweep finds nothing: nothing is sent twice.
    before = len(channel.requests())
    assert server.run_sweep().claimed == 0 and len(channel.requests()) == before

    # The deadline is met: the two Teams cards are updated in place, after one more refusal.
    channel.fail_next("a:flaky", 502, times=1, methods=["PUT"])
    store.replace_reminders("CPC-1", [], frozenset({"dissent-decision"}), now)
    assert server.run_sweep().updated == 2
    updates = [r for r in channel.requests() if r.kind == "update" and r.status == 200]
    sent_ids = {r.conversation_id: r.response_id for r in channel.activities() if r.kind in ("send", "reply")}
    assert sorted((u.conversation_id, u.activity_id) for u in updates) == sorted(
        (c, sent_ids[c]) for c in ("a:ok429", "a:flaky")
    )
    assert all("Done: CPC-1" in json.dumps(u.body) for u in updates)
    assert {r.state for r in store.reminders_for("CPC-1") if r.channel == "teams"} == {"met_shown"}


def test_a_reminder_button_opens_the_card_for_what_is_due(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    store = server.store
    assert store is not None
    store.upsert_person(Person("oid-x", "x@example.org"))
    body = fakes.invoke_adaptive_card_action(
        "open.status", {"reference": "CPC-404"}, "a:x", "29:x", "oid-x", channel.service_url
    )
    response = server.post(body)
    assert response.status == 200
    assert "Not done" in json.dumps(response.body)  # the service refuses an unknown case, as a card
