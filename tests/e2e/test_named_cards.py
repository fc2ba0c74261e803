"""People by name on every card, the audit trail in words, and the decision with its reasons
(issue 14 items 1 and 6), over the fake Teams channel with the real server.

The professionals have realistic display names here (the other e2e tests register people by their
object ids), so the assertions read as a user would read the cards.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from tests.e2e import fakes
from tests.e2e.server import BotServer, Clock

PEOPLE = {
    # oid: (Teams user id, email, display name, agency)
    "oid-chair": ("29:chair", "chair@example.org", "Sam Okafor", "social_care"),
    "oid-pc": ("29:pc", "pc@example.org", "Alex Wilber", "police"),
    "oid-nurse": ("29:nurse", "nurse@example.org", "Megan Bowen", "health"),
    "oid-hos": ("29:hos", "hos@example.org", "Priya Shah", "social_care"),
}
_ESCAPE = re.compile(r"\\([" + re.escape(string.punctuation) + "])")


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    with fakes.FakeTeamsChannel() as ch:
        for oid, (uid, email, name, _agency) in PEOPLE.items():
            ch.add_member(uid, oid, email, name)
        yield ch


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BotServer]:
    with BotServer(tmp_path, Clock("2026-12-17T16:00")) as srv:
        store = srv.store
        assert store is not None
        for oid, (_uid, email, name, agency) in PEOPLE.items():
            store.upsert_person(Person(oid, email, name, agency, None))
        store.grant_role(RoleGrant("oid-hos", "head_of_safeguarding", "sussex"))
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
        store.record_event(CaseEvent("CPC-123", "conference_held", held, "cli"))
        yield srv


def say(server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, text: str, **kw: Any) -> Any:
    return server.post(fakes.message(text, f"a:{oid}", PEOPLE[oid][0], oid, channel.service_url, **kw))


def act(server: BotServer, channel: fakes.FakeTeamsChannel, oid: str, verb: str, data: dict[str, Any]) -> Any:
    activity = fakes.invoke_adaptive_card_action(verb, data, f"a:{oid}", PEOPLE[oid][0], oid, channel.service_url)
    return server.post(activity)


def cards_to(channel: fakes.FakeTeamsChannel, oid: str) -> list[dict[str, Any]]:
    return [
        a["content"]
        for r in channel.requests()
        if r.delivered and r.conversation_id == f"a:{oid}"
        for a in r.attachments
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def shown(node: Any) -> list[str]:
    """What Teams shows of a card: TextBlock text and facts, Markdown escapes resolved (a backslash
    before punctuation is an escape); any other backslash would show on screen."""
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            out.append(node["text"])
        if node.get("type") == "FactSet":
            out += [f"{f['title']}: {f['value']}" for f in node["facts"]]
        for key, value in node.items():
            if key not in ("text", "facts"):
                out += shown(value)
    elif isinstance(node, list):
        for item in node:
            out += shown(item)
    resolved = [_ESCAPE.sub(r"\1", t) for t in out]
    for text in resolved:
        assert "\\" not in text, f"a backslash would show on screen: {text!r}"
    return resolved


def text_of(card: dict[str, Any]) -> str:
    return "\n".join(shown(card))


def find_action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    data = next(a["data"] for a in card.get("actions", []) if a.get("verb") == verb)
    assert isinstance(data, dict)
    return data


def test_cards_name_the_people_and_the_decision_gives_its_reasons(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    for oid in ("oid-chair", "oid-hos"):
        say(server, channel, oid, "help")
    say(server, channel, "oid-pc", "dissent CPC-123 The threshold for a plan was not applied")
    server.run_sweep()

    prompt = next(c for c in cards_to(channel, "oid-chair") if "Dissent from CPC-123" in text_of(c))
    assert "Alex Wilber (police) has formally dissented from the conference decision." in text_of(prompt)
    # The chair's status card has the button beside the chair's own step, and only there.
    say(server, channel, "oid-chair", "status CPC-123")
    chairs = [(a["title"], a["data"]["rule"]) for a in _blocks(cards_to(channel, "oid-chair")[-1], "Action.Execute")]
    assert chairs == [("Record the dissent", "dissent-recorded")], chairs
    r = act(server, channel, "oid-chair", "dissent.record", find_action(prompt, "dissent.record"))
    # The chair has no line manager on record: the card says who is told, and who is not.
    assert "The reviewing manager is being told. No line manager of yours is on record: tell them yourself." in text_of(
        r.body["value"]
    )
    server.run_sweep()

    # The reviewing manager's has "Decide now", which opens the decision card.
    say(server, channel, "oid-hos", "status CPC-123")
    buttons = [a for a in _blocks(cards_to(channel, "oid-hos")[-1], "Action.Execute")]
    assert [(a["title"], a["data"]["rule"]) for a in buttons] == [("Decide now", "dissent-decision")]
    r = act(server, channel, "oid-hos", buttons[0]["verb"], buttons[0]["data"])
    assert "Decide on a dissent: CPC-123" in text_of(r.body["value"])

    decision = next(c for c in cards_to(channel, "oid-hos") if "Decide on a dissent" in text_of(c))
    words = text_of(decision)
    assert "speak with Alex Wilber (police), the dissenting professional" in words
    assert "Dissent by: Alex Wilber (police)" in words and "Chair: Sam Okafor" in words

    server.clock.set("2026-12-21T10:00")
    reasons = "The reports supported the plan; the threshold was applied correctly"
    data = {**find_action(decision, "dissent.decide"), "decision": "not_upheld", "reasons": reasons}
    r = act(server, channel, "oid-hos", "dissent.decide", data)
    assert r.status == 200
    server.run_sweep()

    # The professional is told the decision, who made it, the reasons and what follows (5.7.7(3)-(6)).
    notice = text_of(cards_to(channel, "oid-pc")[-1])
    assert "Dissent not upheld: CPC-123" in notice
    assert "Decided by: Priya Shah" in notice and f"Reasons: {reasons}" in notice
    assert "Dissent by: Alex Wilber (police)" in notice
    assert "line manager or safeguarding lead" in notice
    assert "Pan-Sussex Child Protection and Safeguarding Procedures" in notice

    # The status card names the chair, and says whose dissent each dissent event concerns.
    say(server, channel, "oid-hos", "status CPC-123")
    status = text_of(cards_to(channel, "oid-hos")[-1])
    assert "Chair: Sam Okafor" in status
    assert "Dissent raised by Alex Wilber (police)." in status  # raised by them: not "recorded by" again
    assert (
        "Dissent not upheld: the dissent by Alex Wilber (police), raised Thu 17 Dec 2026, 16:00. "
        "Recorded by Priya Shah." in status
    )
    # A finished step is not "Done: ...; done" and an open one is not coloured like a finished one.
    assert "; done" not in status
    card = cards_to(channel, "oid-hos")[-1]
    colours = {
        b["text"].split(":")[0]: b.get("color")
        for b in _blocks(card)
        if b["text"].startswith(("Open:", "Done:", "Due soon:"))
    }
    assert colours.get("Done") == "Good" and colours.get("Open") != "Good", colours


def _blocks(node: Any, kind: str = "TextBlock") -> Iterator[dict[str, Any]]:
    """Every element of this type in the card, in order."""
    if isinstance(node, dict):
        if node.get("type") == kind:
            yield node
        for value in node.values():
            yield from _blocks(value, kind)
    elif isinstance(node, list):
        for item in node:
            yield from _blocks(item, kind)


def test_the_audit_trail_reads_in_words_numbered_per_case(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    assert server.store is not None
    # Another case's entries come between this case's in the global log.
    server.store.add_conference(
        Conference("CPC-999", "sussex", "initial", held_at=parse_time("2026-12-17T10:00"), chair_id="oid-chair")
    )
    server.store.append_audit("cli", "conference.added", "CPC-123", {})
    server.store.append_audit("cli", "conference.added", "CPC-999", {})
    say(server, channel, "oid-pc", "dissent CPC-123 The threshold for a plan was not applied")
    server.store.append_audit("cli", "conference.linked", "CPC-999", {})
    say(server, channel, "oid-pc", "dissent amend CPC-123 The threshold for a plan was misread")

    say(server, channel, "oid-hos", "audit CPC-123")
    card = cards_to(channel, "oid-hos")[-1]
    lines = text_of(card)
    entries = card["body"][2]["facts"]
    assert [f["title"].split(" ")[0] for f in entries] == ["1\\.", "2\\.", "3\\."], entries
    assert re.search(r"^1\. \w{3} \d+ \w{3} 20\d\d, \d\d:\d\d: ", lines, re.M), lines
    assert "An administrator (command line) added the conference." in lines
    assert "Alex Wilber (police) raised dissent." in lines
    assert "Alex Wilber (police) amended their dissent." in lines
    positions = [int(re.search(r"Chain position (\d+)", f["value"]).group(1)) for f in entries]  # type: ignore[union-attr]
    seqs = [e.seq for e in server.store.audit_entries("CPC-123")]
    assert positions == seqs and positions != [1, 2, 3]  # the global chain has a gap: shown as positions only
    assert "oid-pc" not in lines and "dissent.raised" not in lines


def test_the_display_name_teams_gives_is_kept_and_shown(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    """A professional registered without a display name is named from Teams' ``from.name``; the
    audit entry records that the name changed, not the name."""
    assert server.store is not None
    server.store.upsert_person(Person("oid-nurse", "nurse@example.org", "", "health", None))
    say(server, channel, "oid-chair", "help", user_name="Sam Okafor")
    say(
        server,
        channel,
        "oid-nurse",
        "dissent CPC-123 The health chronology was not considered",
        user_name="Megan\u200b Bowen\n",
    )
    server.run_sweep()
    person = server.store.get_person("oid-nurse")
    assert person is not None and person.display_name == "Megan Bowen"
    prompt = next(c for c in cards_to(channel, "oid-chair") if "Dissent from CPC-123" in text_of(c))
    assert "Megan Bowen (health) has formally dissented" in text_of(prompt)
    named = [e for e in server.store.audit_entries("-") if e.action == "person.named"]
    assert [e.detail for e in named] == [{"person": "oid-nurse", "from": "teams"}]  # the chair's was unchanged
    assert "Megan" not in repr([e.detail for e in server.store.audit_entries()])


def test_cases_groups_what_needs_me_what_waits_on_others_and_what_closed(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    """``cases`` for the chair: CPC-123 needs them (a dissent to record), CPC-200 waits on the reviewing
    manager (its dissent is recorded), CPC-300 closed this week; a case they have nothing to do with
    is not listed. Each case has one tap to open it."""
    store = server.store
    assert store is not None
    for ref, held in (
        ("CPC-200", "2026-12-16T10:00"),
        ("CPC-300", "2026-12-01T10:00"),
        ("CPC-400", "2026-12-16T10:00"),
    ):
        chair = "oid-nurse" if ref == "CPC-400" else "oid-chair"
        store.add_conference(
            Conference(
                ref,
                "sussex",
                "initial",
                held_at=parse_time(held),
                chair_id=chair,
                attendees=(Attendee("oid-pc", "police"),),
            )
        )
        store.record_event(CaseEvent(ref, "conference_held", parse_time(held), "cli"))
    say(server, channel, "oid-chair", "help")
    say(server, channel, "oid-pc", "dissent CPC-123 The threshold for a plan was not applied")
    say(server, channel, "oid-pc", "dissent CPC-200 The risk from the adult was not weighed")
    server.run_sweep()
    prompt = next(c for c in cards_to(channel, "oid-chair") if "Dissent from CPC-200" in text_of(c))
    act(server, channel, "oid-chair", "dissent.record", find_action(prompt, "dissent.record"))
    store.record_event(CaseEvent("CPC-300", "managers_informed", parse_time("2026-12-15T10:00"), "cli"))
    store.set_case_open("CPC-300", False)

    say(server, channel, "oid-chair", "cases")
    card = cards_to(channel, "oid-chair")[-1]
    lines = text_of(card).splitlines()
    assert lines[0] == "Your cases"
    needs, waiting, closed = (
        lines.index(h) for h in ("Needs you now (1)", "Waiting on others (1)", "Closed in the last 30 days (1)")
    )
    assert needs < waiting < closed
    assert lines[needs + 1].startswith("CPC-123: Pan-Sussex")
    assert lines[needs + 2].startswith("Record the dissent in the Chair's Summary and Plan")
    assert lines[waiting + 1].startswith("CPC-200: Pan-Sussex")
    assert "Waiting on: head of safeguarding" in lines[waiting + 3]
    assert lines[closed + 1].startswith("CPC-300") and lines[closed + 2] == "Closed"
    assert "CPC-400" not in "\n".join(lines)
    opens = [a["data"] for a in _blocks(card, "Action.Execute")]
    assert [d["reference"] for d in opens] == ["CPC-123", "CPC-200", "CPC-300"]
    r = act(server, channel, "oid-chair", "open.status", opens[1])
    assert r.status == 200 and "CPC-200: Pan-Sussex" in text_of(r.body["value"])


def test_a_reason_that_looks_like_it_names_someone_is_checked_first(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    """Issue 14 item 7: asked, never refused; nothing is stored until the professional confirms."""
    store = server.store
    assert store is not None
    say(server, channel, "oid-pc", "dissent CPC-123 Jane Smith was not seen alone")
    card = cards_to(channel, "oid-pc")[-1]
    assert "This looks like it may contain a name. Case records use references. Send anyway or edit." in text_of(card)
    assert store.dissents_for("CPC-123") == [] and [e.action for e in store.audit_entries("CPC-123")] == []
    send_anyway = find_action(card, "dissent.submit")
    assert send_anyway["confirm_name"] == "true" and send_anyway["reason"] == "Jane Smith was not seen alone"

    # Edit: the card's own box, sent without the name, is recorded at once.
    edit = next(a for a in card["actions"] if a["type"] == "Action.ShowCard")
    assert edit["card"]["body"][0]["value"] == "Jane Smith was not seen alone"
    send = edit["card"]["actions"][0]["data"]
    r = act(server, channel, "oid-pc", "dissent.submit", {**send, "reason": "The child was not seen alone"})
    assert "Dissent recorded: CPC-123" in text_of(r.body["value"])
    assert [d.reason for d in store.dissents_for("CPC-123")] == ["The child was not seen alone"]

    # Send anyway, from another attendee: recorded as typed, once, however often it is pressed.
    say(server, channel, "oid-nurse", "dissent CPC-123 Mother (Sarah Jones) was not invited")
    data = find_action(cards_to(channel, "oid-nurse")[-1], "dissent.submit")
    for _ in range(2):
        r = act(server, channel, "oid-nurse", "dissent.submit", data)
        assert "Dissent recorded: CPC-123" in text_of(r.body["value"])
    assert [d.reason for d in store.dissents_for("CPC-123")][1:] == ["Mother (Sarah Jones) was not invited"]


def test_a_chair_who_also_holds_an_area_role_gets_the_buttons_of_both(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    """Issue 14 item 3: buttons for every step the viewer can take, the case's own and their role's
    (a small authority's chair is often its reviewing manager for other chairs' cases too)."""
    store = server.store
    assert store is not None
    say(server, channel, "oid-pc", "dissent CPC-123 The threshold for a plan was not applied")
    say(server, channel, "oid-chair", "status CPC-123")
    before = [a["data"]["rule"] for a in _blocks(cards_to(channel, "oid-chair")[-1], "Action.Execute")]
    assert before == ["dissent-recorded"], before
    store.grant_role(RoleGrant("oid-chair", "head_of_safeguarding", "sussex"))
    say(server, channel, "oid-chair", "status CPC-123")
    buttons = [(a["title"], a["data"]["rule"]) for a in _blocks(cards_to(channel, "oid-chair")[-1], "Action.Execute")]
    assert buttons == [("Record the dissent", "dissent-recorded"), ("Decide now", "dissent-decision")], buttons


def test_an_amended_reason_is_checked_as_a_first_one_is(server: BotServer, channel: fakes.FakeTeamsChannel) -> None:
    """Issue 14 item 7, for ``dissent amend``: the check is not skipped by amending a clean reason."""
    store = server.store
    assert store is not None
    say(server, channel, "oid-pc", "dissent CPC-123 The threshold for a plan was not applied")
    say(server, channel, "oid-pc", "dissent amend CPC-123 Jane Smith was not seen alone by the social worker")
    card = cards_to(channel, "oid-pc")[-1]
    assert "This looks like it may contain a name." in text_of(card)
    assert [d.reason for d in store.dissents_for("CPC-123")] == ["The threshold for a plan was not applied"]
    # A professional of the case named in it is not asked about.
    say(server, channel, "oid-pc", "dissent amend CPC-123 Megan Bowen was not asked for the health view")
    assert "Dissent amended" in text_of(cards_to(channel, "oid-pc")[-1])
    send_anyway = find_action(card, "dissent.amend")
    assert send_anyway["confirm_name"] == "true"
    r = act(server, channel, "oid-pc", "dissent.amend", send_anyway)
    assert "Dissent amended" in text_of(r.body["value"])
    assert [d.reason for d in store.dissents_for("CPC-123")] == ["Jane Smith was not seen alone by the social worker"]
    amended = [e for e in store.audit_entries("CPC-123") if e.action == "dissent.amended"]
    assert len(amended) == 2 and "Jane" not in str([e.detail for e in amended])


def test_a_complaint_summary_that_looks_like_it_names_someone_is_checked_first(
    server: BotServer, channel: fakes.FakeTeamsChannel
) -> None:
    store = server.store
    assert store is not None
    form = {
        "reference": "CPC-123",
        "received": "2026-12-17",
        "complainant": "parent",
        "grounds": "outcome",
        "summary": "Sophie Taylor says she was not listened to",
    }
    # The case's own professionals (Alex Wilber attended) are not taken for a family member: recorded at once.
    r = act(
        server,
        channel,
        "oid-chair",
        "complaint.submit",
        {**form, "received": "2026-12-17", "complainant": "carer", "summary": "Says Alex Wilber did not listen"},
    )
    assert "Complaint recorded" in text_of(r.body["value"]), text_of(r.body["value"])
    assert [c.summary for c in store.complaints_for("CPC-123")] == ["Says Alex Wilber did not listen"]
    r = act(server, channel, "oid-chair", "complaint.submit", form)
    refused = r.body["value"]
    assert "This looks like it may contain a name" in text_of(refused)
    toggle = next(b for b in _blocks(refused, "Input.Toggle") if b["id"] == "confirm_name")
    assert toggle["value"] == "false" and len(store.complaints_for("CPC-123")) == 1
    r = act(server, channel, "oid-chair", "complaint.submit", {**form, "confirm_name": "true"})
    assert "Complaint recorded" in text_of(r.body["value"])
    assert [c.summary for c in store.complaints_for("CPC-123")][1:] == ["Sophie Taylor says she was not listened to"]
