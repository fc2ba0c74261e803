"""Mail through Graph sendMail and the outbox: one attempt per call, retried by key, never twice, never lost."""

from __future__ import annotations

import asyncio
import email
import os
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest

from casework.ports_graph import MailRejected, MailThrottled, MailTransient, OutgoingEmail
from graph.graph_mail import IDEMPOTENCY_HEADER, GraphMailer
from graph.mail_queue import MailOutbox, QueuedOutbox
from graph.outbox import FileMailer, FileOutbox
from graph.templates import Fact, Notification, notification_email
from tests.e2e.fake_graph import FakeGraph, lower_keys
from tests.integration.graph_world import SENDER, Clock, Sleeps, graph_client

HOSTILE = "<script>alert('x')</script> & <b>bold</b> \"quoted\""


@pytest.fixture()
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as f:
        yield f


def mail(i: int, key: str | None = None) -> OutgoingEmail:
    return OutgoingEmail((f"cm{i}@council.example",), f"CPC-{i}: notice", "plain", "<p>html</p>", key or f"notice-{i}")


def test_send_mail_is_html_from_the_shared_mailbox_with_the_key_header(fake: FakeGraph) -> None:
    async def run() -> str:
        return await GraphMailer(graph_client(fake), SENDER).send(mail(1))

    assert asyncio.run(run()) == "graph:notice-1"
    (req,) = fake.requests("send_mail")
    assert req.path == "/v1.0/users/complaints%40council.example/sendMail"
    assert set(req.body) == {"Message", "SaveToSentItems"}  # PascalCase, as SDK-FACTS says
    (sent,) = fake.sent
    assert sent.content_type == "html" and sent.headers[IDEMPOTENCY_HEADER] == "notice-1"


@pytest.mark.parametrize(
    ("status", "error"), [(429, MailThrottled), (503, MailTransient), (504, MailTransient), (400, MailRejected)]
)
def test_one_attempt_per_call_and_failures_are_classified(fake: FakeGraph, status: int, error: type) -> None:
    fake.fail_next("send_mail", status, retry_after=12 if status == 429 else None)

    async def run() -> None:
        await GraphMailer(graph_client(fake), SENDER).send(mail(1))

    with pytest.raises(error) as err:
        asyncio.run(run())
    assert len(fake.requests("send_mail")) == 1  # the SDK's retry handler is off for sendMail
    if status == 429:
        assert err.value.retry_after == 12.0  # type: ignore[attr-defined]
    assert fake.sent == []


def test_the_outbox_under_faults_sends_each_message_once_and_loses_none(fake: FakeGraph, tmp_path: Path) -> None:
    clock = Clock("2027-01-04T08:00")
    sleeps = Sleeps(clock)
    box = MailOutbox(
        tmp_path / "queue",
        GraphMailer(graph_client(fake), SENDER),
        now=clock,
        sleep=sleeps,
        base_delay=5,
        max_attempts=6,
    )
    for i in range(12):
        assert box.enqueue(mail(i))
    assert not box.enqueue(mail(3))  # the same key again: stored once
    fake.fail_next("send_mail", 429, retry_after=30)
    fake.fail_next("send_mail", 503, times=3)
    fake.slow_next("send_mail", 0.2, times=2)

    async def run() -> None:
        report = await box.drain(wait_up_to=600)
        assert report.throttled_for == 30.0 and len(report.sent) == 12 and report.failed == []

    asyncio.run(run())
    keys = [m.headers[IDEMPOTENCY_HEADER] for m in fake.sent]
    assert sorted(keys) == sorted(f"notice-{i}" for i in range(12))  # all there, none twice
    assert 30.0 in sleeps.waits  # Retry-After honoured before anything else was sent
    assert box.counts() == {"pending": 0, "sending": 0, "sent": 12, "failed": 0}
    assert len(fake.requests("send_mail")) == 12 + 4  # every failure was answered before sending

    async def again() -> None:
        assert box.enqueue(mail(5)) is False
        report = await box.drain()
        assert report.sent == []

    asyncio.run(again())
    assert len(fake.sent) == 12


def test_a_refused_message_is_kept_and_can_be_sent_once_the_cause_is_fixed(fake: FakeGraph, tmp_path: Path) -> None:
    no_mail = MailOutbox(tmp_path / "q", GraphMailer(graph_client(fake, roles=["Calendars.ReadWrite"]), SENDER))
    no_mail.enqueue(mail(1))
    report = asyncio.run(no_mail.drain())
    assert report.failed == ["notice-1"] and no_mail.state_of("notice-1") == "failed"
    fixed = MailOutbox(tmp_path / "q", GraphMailer(graph_client(fake), SENDER))
    assert fixed.retry_failed() == 1
    assert asyncio.run(fixed.drain()).sent == ["notice-1"]
    assert len(fake.sent) == 1


def test_transient_failures_end_in_failed_not_lost(fake: FakeGraph, tmp_path: Path) -> None:
    clock = Clock("2027-01-04T08:00")
    box = MailOutbox(
        tmp_path / "q",
        GraphMailer(graph_client(fake), SENDER),
        now=clock,
        sleep=Sleeps(clock),
        base_delay=1,
        max_attempts=3,
    )
    box.enqueue(mail(1))
    fake.fail_next("send_mail", 503, times=3)
    report = asyncio.run(box.drain(wait_up_to=60))
    assert report.failed == ["notice-1"] and box.counts()["failed"] == 1 and fake.sent == []


def test_two_workers_draining_together_send_each_message_once(fake: FakeGraph, tmp_path: Path) -> None:
    a = MailOutbox(tmp_path / "q", GraphMailer(graph_client(fake), SENDER))
    b = MailOutbox(tmp_path / "q", GraphMailer(graph_client(fake), SENDER))
    for i in range(20):
        a.enqueue(mail(i))
    fake.slow_next("send_mail", 0.05, times=20)

    async def run() -> None:
        await asyncio.gather(a.drain(), b.drain())

    asyncio.run(run())
    keys = [m.headers[IDEMPOTENCY_HEADER] for m in fake.sent]
    assert len(keys) == len(set(keys)) == 20


def test_a_claim_left_by_a_crashed_worker_is_given_back(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path / "eml")
    clock = Clock("2027-01-04T08:00")
    box = MailOutbox(tmp_path / "q", FileMailer(outbox), now=clock, stale_after=60)
    box.enqueue(mail(1))
    claim = tmp_path / "q" / "sending" / "notice-1.json"
    (tmp_path / "q" / "pending" / "notice-1.json").rename(claim)
    os.utime(claim, (clock().timestamp(), clock().timestamp()))  # a worker claimed it, then died
    assert asyncio.run(box.drain()).sent == []  # claimed a moment ago: left alone
    clock.advance(3600)
    assert asyncio.run(box.drain()).sent == ["notice-1"]
    assert (tmp_path / "eml" / "notice-1.eml").exists()


def test_queued_outbox_is_a_drop_in_for_the_file_outbox(fake: FakeGraph, tmp_path: Path) -> None:
    box = MailOutbox(tmp_path / "q", GraphMailer(graph_client(fake), SENDER))
    outbox = QueuedOutbox(tmp_path / "files", box)
    outbox.send_email("cm@council.example", "CPC-1: reminder", "text", "<p>html</p>", "reminder-1")
    outbox.send_email("cm@council.example", "CPC-1: reminder", "text", "<p>html</p>", "reminder-1")
    asyncio.run(box.drain())
    assert [m.subject for m in fake.sent] == ["CPC-1: reminder"]


def test_notification_html_escapes_everything_and_the_eml_parses(tmp_path: Path) -> None:
    n = Notification(
        to=("cm@council.example",),
        subject="CPC-7: a dissent was recorded",
        title=f"Dissent {HOSTILE}",
        message=f"Reason given: {HOSTILE}",
        key="notice-CPC-7-1",
        facts=(Fact("Case", "CPC-7"), Fact(HOSTILE, HOSTILE)),
        source="Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.7",
    )
    out = notification_email(n)
    assert out.html is not None
    assert "<script>" not in out.html and "<b>bold</b>" not in out.html
    assert out.html.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;") == 4
    assert HOSTILE in out.text  # plain text shows what was typed
    path = FileOutbox(tmp_path).write_email(out)
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["To"] == "cm@council.example" and msg["X-Idempotency-Key"] == "notice-CPC-7-1"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert HOSTILE in text.get_content()
    assert "<script>" not in html.get_content()
    assert lower_keys({"A": 1}) == {"a": 1}
