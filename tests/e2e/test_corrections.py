"""A wrong complaint step, recorded through Teams, withdrawn by an audited correction.

Pan-Sussex (001_554f9f91afccd8e1.txt): the conference is held Thu 17 Dec 2026; the complaint is received
Tue 22 Dec 2026 (a date, no time). The complaints manager then records, wrongly, that the Stage 1
meeting was held on Tue 29 Dec 2026 at 10:00, and corrects it, through the ``correct`` card or with
``cpc case correct``. After the correction the timeline and the reminder rows are as they were before
the wrong step; the original step and its audit entry stay, and the audit chain verifies.

Dates worked out by hand (working days: Monday to Friday, not an England bank holiday; Fri 25 Dec 2026,
Mon 28 Dec 2026 (Boxing Day's substitute: 26 Dec is a Saturday) and Fri 1 Jan 2027 are bank holidays):

- Stage 1 meeting, 10 working days of the complaint (5.7.14), from Tue 22 Dec 2026: Wed 23 (1), Thu 24 (2),
  Tue 29 (3), Wed 30 (4), Thu 31 (5), Mon 4 Jan (6), Tue 5 (7), Wed 6 (8), Thu 7 (9), Fri 8 Jan 2027 (10):
  end of Fri 8 Jan 2027.
- Stage 1 response, 10 working days of the meeting (5.7.16), from Tue 29 Dec 2026: Wed 30 (1), Thu 31 (2),
  Mon 4 Jan (3), Tue 5 (4), Wed 6 (5), Thu 7 (6), Fri 8 (7), Mon 11 (8), Tue 12 (9), Wed 13 Jan 2027 (10):
  end of Wed 13 Jan 2027.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from app import cli_case
from app.cli import main as cpc_main
from casework.clock import LONDON, parse_time
from casework.free_text import text_hash
from casework.records import StoredReminder
from casework.wording import sentence
from store.sql import SqlStore
from tests.e2e import fakes
from tests.e2e.server import BotServer
from tests.e2e.test_complaint_dates import (
    act,
    action_data,
    add_case,
    blocks,
    cards_to,
    open_channel,
    record_complaint,
    refusal,
    say,
    settle,
    snapshot,
    start_server,
    texts_to,
)

REF = "CPC-123"
MEETING = "Stage 1: chair meets the complainant"
RESPONSE = "Stage 1: written response to the complainant"
MEETING_DUE = datetime(2027, 1, 8, 23, 59, 59, tzinfo=LONDON)  # end of Fri 8 Jan 2027 (see above)
RESPONSE_DUE = datetime(2027, 1, 13, 23, 59, 59, tzinfo=LONDON)  # end of Wed 13 Jan 2027 (see above)
REASON = "The Stage 1 meeting was booked for that day, not held"


@pytest.fixture()
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    yield from open_channel()


@pytest.fixture()
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotServer]:
    srv = start_server(tmp_path, "2026-12-22T12:00")
    assert srv.store is not None
    add_case(srv.store, REF, "sussex", "2026-12-17T14:00")
    # The command line, run in this process, works on the server's database at the server's time.
    monkeypatch.setenv("CPC_DATABASE_URL", srv.settings.database_url)
    monkeypatch.setattr(cli_case, "clock", srv.clock)
    try:
        yield srv
    finally:
        srv.stop()


def cpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cpc_main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def status(server: BotServer, channel: fakes.FakeTeamsChannel) -> list[str]:
    say(server, channel, "oid-cm", f"status {REF}")
    return blocks(cards_to(channel, "oid-cm")[-1])


def line_after(texts: list[str], title: str) -> tuple[str, str]:
    """A deadline's heading (with its word: Done, Open...) and its due line, from a status card."""
    for i, t in enumerate(texts):
        if title in t:
            return t, texts[i + 1]
    raise AssertionError(f"{title!r} not on the status card: {texts}")


def pending(store: SqlStore, rule: str) -> list[StoredReminder]:
    return [r for r in store.reminders_for(REF) if r.rule_id == rule and r.state == "pending"]


def wrong_step(server: BotServer, channel: fakes.FakeTeamsChannel) -> set[str]:
    """Receive the complaint, then record the Stage 1 meeting wrongly; returns the Stage 1 meeting's
    pending reminder keys as they were before the wrong step."""
    store = server.store
    assert store is not None
    assert blocks(record_complaint(server, channel, REF, "2026-12-22"))[0] == "Complaint recorded"
    meeting_rows = pending(store, "stage1-meeting")
    assert meeting_rows and {r.due for r in meeting_rows} == {MEETING_DUE}
    assert not pending(store, "stage1-response")
    server.clock.set("2026-12-30T10:00")
    say(server, channel, "oid-cm", f"stage2 {REF}")
    data = action_data(cards_to(channel, "oid-cm")[-1], "step.submit")
    assert data is not None
    step = {**data, "event": "stage1_meeting_held", "date": "2026-12-29", "time": "10:00"}
    assert blocks(act(server, channel, "oid-cm", "step.submit", step))[0] == "Recorded"
    # The wrong step took effect: the meeting's duty is met, the response's is open.
    texts = status(server, channel)
    heading, due = line_after(texts, MEETING)
    assert heading.startswith("Done:"), heading
    heading, due = line_after(texts, RESPONSE)
    assert heading.startswith(("Open:", "Due soon:")) and due == "Due end of Wed 13 Jan 2027", (heading, due)
    assert not pending(store, "stage1-meeting")
    response_rows = pending(store, "stage1-response")
    assert response_rows and {r.due for r in response_rows} == {RESPONSE_DUE}
    return {r.key for r in meeting_rows}


def check_corrected(server: BotServer, channel: fakes.FakeTeamsChannel, before: set[str], actor: str) -> None:
    store = server.store
    assert store is not None
    texts = status(server, channel)
    heading, due = line_after(texts, MEETING)
    assert heading.startswith(("Open:", "Due soon:")) and due == "Due end of Fri 8 Jan 2027", (heading, due)
    heading, due = line_after(texts, RESPONSE)
    assert heading.startswith("Not started:") and due == "Dated once the step it runs from is recorded", (heading, due)
    assert "stage1 meeting held" not in texts[-1] and not any("stage1 meeting held" in t for t in texts)
    # Reminders: the response's rows are cancelled; the meeting's are back, the same rows as before.
    rows = [r for r in store.reminders_for(REF) if r.rule_id == "stage1-response"]
    assert rows and {r.state for r in rows} == {"cancelled"}
    assert {r.key for r in pending(store, "stage1-meeting")} == before
    # The step is withdrawn, not deleted; both audit entries are there; the chain verifies.
    names = [e.name for e in store.all_events_for(REF)]
    assert "stage1_meeting_held" in names
    assert "stage1_meeting_held" not in [e.name for e in store.events_for(REF)]
    entries = store.audit_entries(REF)
    actions = [e.action for e in entries]
    assert "complaint.stage1_meeting_held" in actions and actions[-1] == "case.corrected", actions
    corrected = entries[-1]
    assert corrected.actor == actor
    assert corrected.detail["withdrawn"] == "stage1_meeting_held"
    assert corrected.detail["reason_sha256"] == text_hash(REASON) and REASON not in str(corrected.detail)
    assert corrected.detail["at"] == "2026-12-29T10:00:00+00:00"


def test_wrong_step_corrected_through_teams(
    server: BotServer, channel: fakes.FakeTeamsChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    before = wrong_step(server, channel)
    say(server, channel, "oid-cm", f"correct {REF}")
    form = cards_to(channel, "oid-cm")[-1]
    data = action_data(form, "correct.submit")
    assert data is not None
    items = {c["title"]: c["value"] for b in form["body"] if b.get("id") == "item" for c in b["choices"]}
    # Newest first; a step dated with no time (the complaint) is shown as a date.
    assert list(items) == ["Stage1 meeting held, Tue 29 Dec 2026, 10:00", "Complaint received, Tue 22 Dec 2026"]
    card = act(
        server,
        channel,
        "oid-cm",
        "correct.submit",
        {**data, "item": items["Stage1 meeting held, Tue 29 Dec 2026, 10:00"], "reason": REASON},
    )
    assert blocks(card)[:2] == [
        "Corrected",
        "Withdrawn: stage1 meeting held of Tue 29 Dec 2026, 10:00; the original stays in the audit trail.",
    ], blocks(card)
    check_corrected(server, channel, before, "oid-cm")
    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 0 and "audit log intact" in out, out
    # The same card again (a double click): the first answer, saying so; nothing changes.
    assert server.store is not None
    again = snapshot(server.store, REF)
    card = act(
        server, channel, "oid-cm", "correct.submit", {**data, "item": items[next(iter(items))], "reason": REASON}
    )
    assert blocks(card)[0] == "Corrected" and "it is recorded once" in blocks(card)[1], blocks(card)
    assert snapshot(server.store, REF) == again


def test_wrong_step_corrected_with_the_command_line(
    server: BotServer, channel: fakes.FakeTeamsChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    before = wrong_step(server, channel)
    code, out, err = cpc(capsys, "case", "events", REF)
    assert code == 0, err
    found = re.search(r"^(\d+)\s+Tue 29 Dec 2026 10:00\s+stage1_meeting_held\s+oid-cm\s*$", out, re.MULTILINE)
    assert found, out
    event_id = found.group(1)
    code, out, err = cpc(capsys, "case", "correct", REF, "--event", event_id, "--reason", REASON, "--as", "oid-cm")
    assert (code, err) == (0, ""), err
    assert (
        out.strip()
        == f"{REF}: Withdrawn: stage1 meeting held of Tue 29 Dec 2026, 10:00; the original stays in the audit trail"
    )
    check_corrected(server, channel, before, "oid-cm")
    code, out, _ = cpc(capsys, "case", "events", REF)
    row = next(line for line in out.splitlines() if line.startswith(f"{event_id} "))
    # Marked, with who withdrew it and why (and when the audit entry was written: the wall clock's time).
    assert re.search(rf"stage1_meeting_held\s+oid-cm\s+withdrawn .+ by oid-cm: {REASON}$", row), out
    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 0 and "audit log intact" in out, out
    # Once more: it is already withdrawn, so the first answer again, and nothing changes.
    assert server.store is not None
    again = snapshot(server.store, REF)
    code, out, err = cpc(capsys, "case", "correct", REF, "--event", event_id, "--reason", REASON, "--as", "oid-cm")
    assert code == 0 and "Withdrawn: stage1 meeting held" in out and err == "", (out, err)
    assert snapshot(server.store, REF) == again


def test_correction_by_someone_not_entitled_is_refused(
    server: BotServer, channel: fakes.FakeTeamsChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_step(server, channel)
    store = server.store
    assert store is not None
    settle(server)
    before = snapshot(store, REF)
    entitled = f"corrections on {REF} are for its chair, a complaints manager (complaint steps) or an admin"
    # An attendee, and the reviewing manager (who records stage steps but does not correct them).
    for oid in ("oid-pc", "oid-hos"):
        say(server, channel, oid, f"correct {REF}")
        assert texts_to(channel, oid)[-1] == sentence(entitled)  # Teams replies are sentences
    # The complaints manager's own form, submitted by someone else: refused, nothing changes.
    say(server, channel, "oid-cm", f"correct {REF}")
    form = cards_to(channel, "oid-cm")[-1]
    data = action_data(form, "correct.submit")
    assert data is not None
    item = next(c["value"] for b in form["body"] if b.get("id") == "item" for c in b["choices"])
    for oid in ("oid-pc", "oid-hos"):
        card = act(server, channel, oid, "correct.submit", {**data, "item": item, "reason": REASON})
        assert blocks(card)[0] == "Not done" and refusal(card) == sentence(entitled), blocks(card)
    code, _, err = cpc(capsys, "case", "correct", REF, "--event", item, "--reason", REASON, "--as", "oid-hos")
    assert (code, err) == (1, f"cpc: refused: {entitled}\n")
    settle(server)
    assert snapshot(store, REF) == before
    assert store.events_for(REF)[-1].at == parse_time("2026-12-29T10:00")  # the step still counts
