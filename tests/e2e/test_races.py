"""Two ``cpc serve`` processes on one database (a SQLite file, and a PostgreSQL schema), one fake Teams
channel, and the same action fired twenty times at once, split across both (ARCHITECTURE: Writing:
"two instances racing make one change"):

- a professional's dissent command (their first message to the bot),
- the chair's "Record dissent" button (the ``dissent.record`` Action.Execute invoke),
- the complaint form's submit (``complaint.submit``).

Each time: exactly one change, one audit entry, and each notice row once, delivered once; and every one
of the twenty requests is answered (an invoke 200 with a card; a message 201 and its reply in the chat),
none with an error, each with the first action's answer.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.procedures import load_catalogue
from casework.clock import LONDON
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from casework.service import Casework
from store.sql import SqlStore, open_store
from tests.e2e import fakes
from tests.e2e.processes import Response, Serve, cpc, database, post, wait_until
from tests.e2e.test_bot_flows import card_text, find_action
from tests.e2e.test_reminder_delivery import conversation_ref

TIMES = 20
PEOPLE = {  # person id (Entra object id): agency
    "chair": "social_care",
    "pc": "police",
    "nurse": "health",
    "hos": "social_care",
    "cm": "social_care",
    "lm": "social_care",
}


@dataclass
class Cluster:
    url: str
    tmp: Path
    store: SqlStore
    channel: fakes.FakeTeamsChannel
    servers: list[Serve]
    casework: Casework


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp(f"races-{request.param}")
    with database(request.param, tmp) as url, fakes.FakeTeamsChannel() as channel:
        store = open_store(url)  # migrated here, once: the servers find it at the head revision
        servers: list[Serve] = []
        try:
            for pid, agency in PEOPLE.items():
                store.upsert_person(Person(pid, f"{pid}@example.org", pid, agency, "lm" if pid == "chair" else None))
                channel.add_member(f"29:{pid}", pid, f"{pid}@example.org", pid)
                if pid != "nurse":  # the nurse has never talked to the bot
                    store.save_conversation_ref(pid, conversation_ref(channel.service_url, pid))
            store.grant_role(RoleGrant("hos", "head_of_safeguarding", "sussex"))
            store.grant_role(RoleGrant("cm", "complaints_manager", "sussex"))
            held = datetime.now(UTC) - timedelta(hours=1)
            for ref in ("CPC-601", "CPC-602", "CPC-603", "CPC-604"):
                attendees = (Attendee("pc", "police"), Attendee("nurse", "health"))
                store.add_conference(
                    Conference(ref, "sussex", "initial", held_at=held, chair_id="chair", attendees=attendees)
                )
                store.record_event(CaseEvent(ref, "conference_held", held, "test"))
            servers = [Serve(url, tmp, name) for name in ("a", "b")]
            for s in servers:
                s.wait_healthy()
            cw = Casework(store, load_catalogue().areas, lambda: datetime.now(UTC))
            yield Cluster(url, tmp, store, channel, servers, cw)
        finally:
            for s in servers:
                s.stop()
            store.close()


def fire(cluster: Cluster, make: Callable[[int], dict[str, Any]]) -> list[Response]:
    """Post ``make(i)`` for i in 0..TIMES-1 at once from TIMES threads, alternating between the servers."""
    start = threading.Barrier(TIMES)
    out: list[Response | BaseException | None] = [None] * TIMES

    def one(i: int) -> None:
        activity = make(i)
        start.wait(30)
        try:
            out[i] = post(cluster.servers[i % 2].port, activity)
        except BaseException as exc:
            out[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(TIMES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    errors = [r for r in out if not isinstance(r, Response)]
    assert errors == [], errors
    return [r for r in out if isinstance(r, Response)]


def cards_to(channel: fakes.FakeTeamsChannel, conversation: str) -> list[dict[str, Any]]:
    return [
        a["content"]
        for r in channel.activities()
        if r.conversation_id == conversation
        for a in r.attachments
        if a.get("contentType") == fakes.ADAPTIVE_CARD
    ]


def texts_to(channel: fakes.FakeTeamsChannel, conversation: str) -> list[str]:
    return [r.text for r in channel.activities() if r.conversation_id == conversation and r.text]


def delivered(cluster: Cluster, reference: str) -> bool:
    """Every notice of the case has left the outbox."""
    notices = cluster.store.notices_for(reference)
    return bool(notices) and all(n.state != "pending" for n in notices)


def invoke(cluster: Cluster, pid: str, verb: str, data: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    service = cluster.channel.service_url
    return lambda _i: fakes.invoke_adaptive_card_action(verb, data, f"a:{pid}", f"29:{pid}", pid, service)


def answers(responses: list[Response]) -> Counter[str]:
    """The title of each invoke's card (``Action.Execute`` answers with a card)."""
    out: Counter[str] = Counter()
    for r in responses:
        assert r.status == 200, r
        assert isinstance(r.body, dict) and r.body.get("statusCode") == 200, r.body
        out[r.body["value"]["body"][0]["text"]] += 1
    return out


def audit_actions(cluster: Cluster, reference: str) -> Counter[str]:
    return Counter(e.action for e in cluster.store.audit_entries(reference))


def assert_audit_verifies(cluster: Cluster) -> None:
    done = cpc(cluster.url, cluster.tmp, "audit", "verify")
    assert done.returncode == 0 and "audit log intact" in done.stdout, done.stdout + done.stderr


def dissent_race(cluster: Cluster, pid: str, reference: str) -> list[str]:
    """Fire the same dissent twenty times; check it is one dissent, whole, its prompt delivered once.
    Returns the text replies (there should be none: every answer is the confirmation card)."""
    service = cluster.channel.service_url
    text = f"dissent {reference} Threshold for a plan is not met on the evidence"
    responses = fire(cluster, lambda _i: fakes.message(text, f"a:{pid}", f"29:{pid}", pid, service))
    # A message is answered in the conversation; the HTTP answer is the channel's acknowledgement.
    assert {r.status for r in responses} <= {200, 201}, responses
    wait_until(lambda: delivered(cluster, reference), 60, "the chair's prompt to go out")
    replies = cards_to(cluster.channel, f"a:{pid}")
    texts = texts_to(cluster.channel, f"a:{pid}")
    assert len(replies) + len(texts) == TIMES
    assert all(f"Dissent recorded: {reference}" in card_text(c) for c in replies), [card_text(c)[:200] for c in replies]

    dissents = cluster.store.dissents_for(reference)
    assert [(d.person_id, d.state) for d in dissents] == [(pid, "raised")]
    events = [e.name for e in cluster.store.events_for(reference)]
    assert events.count("dissent_raised") == 1
    assert audit_actions(cluster, reference) == {"dissent.raised": 1}
    notices = cluster.store.notices_for(reference)
    assert [(n.kind, n.person_id, n.dissent_id, n.state) for n in notices] == [
        ("chair_prompt", "chair", dissents[0].id, "sent")
    ]
    prompts = [find_action(c, "dissent.record")["dissent"] for c in cards_to(cluster.channel, "a:chair")]
    assert prompts.count(dissents[0].id) == 1
    assert_audit_verifies(cluster)
    return texts


def test_the_same_dissent_twenty_times_at_once_is_one_dissent(cluster: Cluster) -> None:
    assert dissent_race(cluster, "pc", "CPC-601") == []


def test_a_first_message_sent_twenty_times_at_once_is_answered_every_time(cluster: Cluster) -> None:
    """The nurse's first message to the bot: where to reach her is stored by the first turn that gets there."""
    # Where to reach her is an upsert (store/people.py save_conversation_ref): two first turns of one
    # person cannot both insert, so no turn fails.
    assert dissent_race(cluster, "nurse", "CPC-604") == []
    assert not any("turn failed" in log.read_text() for log in logs(cluster))


def logs(cluster: Cluster) -> list[Path]:
    return sorted(cluster.tmp.glob("serve-*.log"))


def first_answer_or_known_bug(got: Counter[str], first: str, bug: str) -> None:
    """Every request gets the first action's answer: a repeat that finds the change already made is
    answered as the first was (casework marks it ``repeated``); any other answer fails the test."""
    assert got == {first: TIMES}, (got, bug)


def test_the_chairs_record_button_twenty_times_at_once_records_once(cluster: Cluster) -> None:
    raised = cluster.casework.raise_dissent("nurse", "CPC-602", "The plan does not address the risk at home")
    did = raised.dissent.id
    wait_until(lambda: delivered(cluster, "CPC-602"), 60, "the chair's prompt to go out")
    prompt = next(
        c
        for c in cards_to(cluster.channel, "a:chair")
        if "dissent.record" in card_text(c) and find_action(c, "dissent.record")["dissent"] == did
    )
    data = find_action(prompt, "dissent.record")
    responses = fire(cluster, invoke(cluster, "chair", "dissent.record", data))
    got = answers(responses)
    print(f"\nanswers to twenty record clicks: {dict(got)}")

    assert [d.state for d in cluster.store.dissents_for("CPC-602")] == ["recorded"]
    events = [e.name for e in cluster.store.events_for("CPC-602")]
    assert events.count("dissent_recorded") == 1
    assert audit_actions(cluster, "CPC-602") == {"dissent.raised": 1, "dissent.recorded": 1}
    wait_until(lambda: delivered(cluster, "CPC-602"), 60, "the line manager's and reviewing manager's cards")
    notices = Counter((n.kind, n.person_id, n.state) for n in cluster.store.notices_for("CPC-602"))
    assert notices == {
        ("chair_prompt", "chair", "sent"): 1,
        ("line_manager_notice", "lm", "sent"): 1,
        ("decision_request", "hos", "sent"): 1,
    }
    assert [card_text(c).count("Dissent recorded: CPC-602") for c in cards_to(cluster.channel, "a:lm")] == [1]
    decisions = [c for c in cards_to(cluster.channel, "a:hos") if "Decide on a dissent: CPC-602" in card_text(c)]
    assert len(decisions) == 1
    assert_audit_verifies(cluster)
    first_answer_or_known_bug(
        got, "Dissent recorded", "record_dissent answers a repeat of the same card with AlreadyDone"
    )


def test_the_same_complaint_form_twenty_times_at_once_is_one_complaint(cluster: Cluster) -> None:
    service = cluster.channel.service_url
    r = post(cluster.servers[0].port, fakes.message("complaint CPC-603", "a:chair", "29:chair", "chair", service))
    assert r.status in (200, 201)
    form = next(c for c in reversed(cards_to(cluster.channel, "a:chair")) if "complaint.submit" in card_text(c))
    today = datetime.now(LONDON).date().isoformat()
    data = {
        **find_action(form, "complaint.submit"),
        "received": today,
        "complainant": "parent",
        "grounds": "decision",
        "summary": "The plan was made without hearing us",
    }
    responses = fire(cluster, invoke(cluster, "chair", "complaint.submit", data))
    got = answers(responses)
    print(f"\nanswers to twenty complaint submits: {dict(got)}")

    assert [(c.complainant_role, c.stage) for c in cluster.store.complaints_for("CPC-603")] == [("parent", "stage1")]
    events = [e.name for e in cluster.store.events_for("CPC-603")]
    assert events.count("complaint_received") == 1
    assert audit_actions(cluster, "CPC-603") == {"complaint.received": 1}
    wait_until(lambda: delivered(cluster, "CPC-603"), 60, "the complaints manager's notice")
    notices = [(n.kind, n.person_id, n.state) for n in cluster.store.notices_for("CPC-603")]
    assert notices == [("complaint_logged", "cm", "sent")]
    logged = [c for c in cards_to(cluster.channel, "a:cm") if "Complaint received: CPC-603" in card_text(c)]
    assert len(logged) == 1
    assert_audit_verifies(cluster)
    first_answer_or_known_bug(
        got,
        "Complaint recorded",
        "record_complaint answers a repeat that arrives after the first commit with AlreadyDone "
        "(and an invitation to record a second complaint); only a race lost on the unique constraint "
        "gets the first answer",
    )
