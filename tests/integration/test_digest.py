"""The complaints managers' digest: its content for a set of Sussex cases (dates worked out by hand),
the HTML that renders without images, one email per area per manager on working days only, and
``cpc digest``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from app.cli import main
from app.procedures import load_catalogue
from casework.clock import parse_time
from casework.records import CaseEvent, Complaint, Conference, Person, RoleGrant
from graph.outbox import FileOutbox
from scheduler.digest import DigestJob, build_digest, previous_digest, render_digest
from store.sql import SqlStore, open_store

# Wed 13 Jan 2027, 08:00 GMT: the last digest went on Tue 12 Jan at 08:00.
NOW = "2027-01-13T08:00"


def case(store: SqlStore, ref: str, held: str, events: dict[str, str], stage: str = "stage1") -> None:
    store.add_conference(Conference(ref, "sussex", "initial", held_at=parse_time(held), chair_id="c1"))
    store.record_event(CaseEvent(ref, "conference_held", parse_time(held)))
    for name, at in events.items():
        store.record_event(CaseEvent(ref, name, parse_time(at)))
    received = parse_time(events["complaint_received"])
    store.add_complaint(Complaint(None, ref, "sussex", received, "parent", "decision", "", stage))


def seed(store: SqlStore) -> None:
    store.upsert_person(Person("c1", "chair@example.org", "Chair <One>"))
    store.upsert_person(Person("cm1", "cm1@example.org", "Manager One"))
    store.upsert_person(Person("cm2", "cm2@example.org", "Manager Two"))
    store.grant_role(RoleGrant("cm1", "complaints_manager", "sussex"))
    store.grant_role(RoleGrant("cm2", "complaints_manager", "*"))
    # CPC-1: complaint Mon 21 Dec 2026; the Stage 1 meeting (10 working days, 001 5.7.14) was due end of
    # Thu 7 Jan 2027: Tue 22 (1), Wed 23 (2), Thu 24 (3), Tue 29 (4), Wed 30 (5), Thu 31 (6), Mon 4 (7),
    # Tue 5 (8), Wed 6 (9), Thu 7 (10). Not held: overdue, with the chair.
    case(store, "CPC-1", "2026-12-14T10:00", {"complaint_received": "2026-12-21T10:00"})
    # CPC-2: complaint Mon 4 Jan 2027; meeting due end of Mon 18 Jan: Tue 5 (1), Wed 6 (2), Thu 7 (3),
    # Fri 8 (4), Mon 11 (5), Tue 12 (6), Wed 13 (7), Thu 14 (8), Fri 15 (9), Mon 18 (10). Within the next
    # five working days of Wed 13 Jan (Thu 14, Fri 15, Mon 18, Tue 19, Wed 20).
    case(store, "CPC-2", "2026-12-30T10:00", {"complaint_received": "2027-01-04T10:00"})
    # CPC-3: Stage 1 meeting on time (due Tue 22 Dec), response never sent (due Thu 24 Dec); closed
    # Tue 12 Jan 14:00, after the last digest.
    case(
        store,
        "CPC-3",
        "2026-12-07T10:00",
        {
            "complaint_received": "2026-12-08T10:00",
            "stage1_meeting_held": "2026-12-10T10:00",
            "closed": "2027-01-12T14:00",
        },
        "closed:confirmed",
    )
    # CPC-4: Stage 1 on time, Stage 2 requested Mon 4 Jan (meeting due in 28 days: Mon 1 Feb, not soon).
    case(
        store,
        "CPC-4",
        "2026-12-07T10:00",
        {
            "complaint_received": "2026-12-08T10:00",
            "stage1_meeting_held": "2026-12-09T10:00",
            "stage1_response_sent": "2026-12-10T10:00",
            "stage2_requested": "2027-01-04T10:00",
        },
    )


def test_the_digest_lists_stages_due_overdue_closed_and_on_time_rates(store: SqlStore) -> None:
    seed(store)
    area = load_catalogue().areas["sussex"]
    now = parse_time(NOW)
    since = previous_digest(area, now.date(), parse_time("2027-01-13T08:00").time())
    assert since.isoformat() == "2027-01-12T08:00:00+00:00"
    d = build_digest(store, area, now, since)
    assert d.open_total == 3
    assert [(b.label, b.count) for b in d.by_stage] == [("Stage 1", 2), ("Stage 2", 1), ("Panel", 0)]
    assert [(i.reference, i.title, i.due, i.who) for i in d.overdue] == [
        ("CPC-1", "Stage 1: chair meets the complainant", "end of Thu 7 Jan 2027", "Chair <One> (chair)")
    ]
    assert [(i.reference, i.due) for i in d.due_soon] == [("CPC-2", "end of Mon 18 Jan 2027")]
    assert [(i.reference, i.title) for i in d.closed] == [("CPC-3", "confirmed")]
    # Stage 1 meetings due in the last 12 months: CPC-3 and CPC-4 on time, CPC-1 missed (2 of 3);
    # Stage 1 responses: CPC-4 on time, CPC-3 missed (1 of 2).
    assert [(r.title, r.on_time, r.total, r.percent) for r in d.rates] == [
        ("Stage 1: chair meets the complainant", 2, 3, 67),
        ("Stage 1: written response to the complainant (copy to the Complaints Manager)", 1, 2, 50),
    ]
    html, text = render_digest(d)
    assert "Chair &lt;One&gt;" in html and "Chair <One>" not in html  # autoescaped
    assert "Chair <One> (chair)" in text  # the plain-text part is not HTML
    assert "<img" not in html and 'bgcolor="#2f855a"' in html  # bars are table cells
    assert 'width="67%"' in html and 'width="33%"' in html


def test_the_job_sends_one_email_per_area_per_manager_on_working_days_only(store: SqlStore, tmp_path: Path) -> None:
    seed(store)
    areas = load_catalogue().areas
    outbox = tmp_path / "outbox"
    clock = {"now": parse_time(NOW)}
    job = DigestJob(store, areas, FileOutbox(outbox), lambda: clock["now"])
    # cm1 covers Sussex; cm2 every area: one email each per area.
    assert job.send_all() == 1 + len(areas)
    assert job.send_all() == 1 + len(areas)  # a second run (another instance) writes the same files
    sent = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    assert len(sent) == 1 + len(areas)
    assert sorted(str(m["Subject"]) for m in sent if m["To"] == "cm1@example.org") == [
        "Complaints digest: Pan-Sussex (Brighton & Hove, East Sussex, West Sussex), Wed 13 Jan 2027"
    ]
    assert all(m.is_multipart() for m in sent)
    # Fri 1 Jan 2027 is New Year's Day: no digest anywhere in England.
    clock["now"] = parse_time("2027-01-01T08:00")
    assert job.send_all() == 0


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'var' / 'cpc.sqlite3'}"
    monkeypatch.setenv("CPC_DATABASE_URL", url)
    monkeypatch.setenv("CPC_OUTBOX_DIR", str(tmp_path / "outbox"))
    with open_store(url) as store:
        seed(store)
    return url


def cpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cpc_digest_dry_run_prints_the_html(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cpc(capsys, "digest", "--to", "cm1@example.org", "--dry-run")
    assert code == 0, err
    # The command uses the real clock, so only what does not depend on today's date is checked here.
    assert out.lstrip().startswith("<!DOCTYPE html>") and "Complaints digest" in out and "Pan-Sussex" in out


def test_cpc_digest_writes_an_email_for_each_area_covered(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cpc(capsys, "digest", "--to", "cm1@example.org")
    assert code == 0, err
    assert out.count("written to") == 1
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    assert message_from_bytes(path.read_bytes())["To"] == "cm1@example.org"
    code, out, _ = cpc(capsys, "digest", "--to", "someone@example.org", "--area", "london")
    assert code == 0 and "digest for london" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "not-an-email"], "--to 'not-an-email': expected an email address"),
        (["--to", "nobody@example.org"], "nobody is registered with this email"),
        (["--to", "chair@example.org"], "covers no area as complaints_manager"),
        (["--to", "cm1@example.org", "--area", "atlantis"], "atlantis"),
    ],
)
def test_cpc_digest_bad_input_is_one_line_and_exit_2(
    db: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = cpc(capsys, "digest", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("cpc: error:") and message in err


def many_overdue(store: SqlStore, count: int) -> None:
    """``count`` more cases like CPC-1 (Stage 1 meeting overdue with the chair), and one complaint
    closed two years ago, which the digest must not read."""
    for n in range(count):
        case(store, f"CPC-{100 + n}", "2026-12-14T10:00", {"complaint_received": "2026-12-21T10:00"})
    case(
        store,
        "CPC-99",
        "2024-11-04T10:00",
        {
            "complaint_received": "2024-11-05T10:00",
            "stage1_meeting_held": "2024-11-06T10:00",
            "stage1_response_sent": "2024-11-07T10:00",
            "closed": "2024-11-08T10:00",
        },
        "closed:confirmed",
    )


def test_the_lists_are_capped_and_counted(store: SqlStore) -> None:
    seed(store)
    many_overdue(store, 30)
    area = load_catalogue().areas["sussex"]
    now = parse_time(NOW)
    d = build_digest(store, area, now, previous_digest(area, now.date(), now.time()))
    assert len(d.overdue) == 31 and d.open_total == 33  # counted whole
    html, text = render_digest(d)
    assert "OVERDUE, AND WITH WHOM (31)" in text and "and 6 more" in text
    assert text.count("Stage 1: chair meets the complainant; due end of Thu 7 Jan 2027") == 25
    assert "Overdue, and with whom (31)" in html and "and 6 more" in html
    assert html.count('<td valign="top">end of Thu 7 Jan 2027</td>') == 25
    everything = build_digest(store, area, now, d.since, cap=None)
    _html_all, text_all = render_digest(everything)
    assert text_all.count("due end of Thu 7 Jan 2027") == 31 and "more" not in text_all
    # The rates are those of the base fixture: the complaint closed in 2024 was not counted (or read).
    assert [(r.on_time, r.total) for r in everything.rates] == [(2, 33), (1, 2)]


def test_the_digest_reads_open_complaints_and_those_closed_since(store: SqlStore) -> None:
    seed(store)
    many_overdue(store, 2)
    since = parse_time("2027-01-12T08:00")
    read = store.complaint_cases("sussex", since, parse_time("2025-07-13T00:00"))
    # Open ones, and CPC-3 (closed after the last digest, also received this year); never CPC-99.
    assert read == ["CPC-3", "CPC-4", "CPC-1", "CPC-100", "CPC-101", "CPC-2"]
    # Received long ago but closed since the last digest: read for the closed list.
    store.record_event(CaseEvent("CPC-99", "closed", parse_time("2027-01-12T09:00")))
    assert "CPC-99" in store.complaint_cases("sussex", since, parse_time("2025-07-13T00:00"))
    assert store.complaint_cases("london", since, parse_time("2025-07-13T00:00")) == []


def test_cpc_digest_all_draws_every_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cpc.sqlite3'}"
    monkeypatch.setenv("CPC_DATABASE_URL", url)
    monkeypatch.setenv("CPC_OUTBOX_DIR", str(tmp_path / "outbox"))
    # The command uses the real clock: complaints received 60 days ago, their Stage 1 meetings overdue.
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
    with open_store(url) as store:
        seed(store)
        for n in range(30):
            ref = f"CPC-{100 + n}"
            when = {"complaint_received": (received + timedelta(minutes=n)).isoformat()}
            case(store, ref, (received - timedelta(days=7)).isoformat(), when)
    code, capped, err = cpc(capsys, "digest", "--to", "cm1@example.org", "--dry-run")
    assert code == 0, err
    code, full, err = cpc(capsys, "digest", "--to", "cm1@example.org", "--dry-run", "--all")
    assert code == 0, err
    assert all(f"CPC-{100 + n}<" in full for n in range(30))
    assert sum(f"CPC-{100 + n}<" in capped for n in range(30)) < 30 and " more</div>" in capped
