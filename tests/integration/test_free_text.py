"""Free text out of the audit chain: redaction and retention erase it everywhere, and the chain verifies.

A name typed by mistake ("Jane Example") into a dissent reason, a decision's reasons, a correction's
reason and a complaint summary must be erasable: after ``cpc case redact`` (one field) or
``cpc retention apply`` (the whole case), no table holds it, ``cpc audit verify`` still passes, and
the case's timeline is what it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app import cli_case
from app.cli import main
from app.procedures import load_catalogue
from casework.clock import parse_time
from casework.free_text import text_hash
from casework.records import Attendee, Conference, Person
from casework.service import Casework
from store.sql import SqlStore, open_store

#: What a confirmed decision is explained with (issue 14: the outcome needs it).
EXPLANATION = "The decision was explained to the parent in writing"

REF = "CPC-123"
NAME = "Jane Example"
NOW = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)


@pytest.fixture()
def db(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlStore]:
    monkeypatch.setenv("CPC_DATABASE_URL", store_url)
    monkeypatch.setenv("CPC_AUDIT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.jsonl"))
    monkeypatch.setattr(cli_case, "clock", lambda: NOW)
    store = open_store(store_url)
    try:
        yield store
    finally:
        store.close()


def cpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def a_case_with_a_name_in_every_text(db: SqlStore) -> Casework:
    cw = Casework(db, load_catalogue().areas, lambda: NOW)
    for pid, roles in (("oid-chair", [("chair", "sussex")]), ("oid-cm", [("complaints_manager", "sussex")])):
        cw.register_person("test", Person(pid, f"{pid}@example.org"), roles)
    cw.register_person("test", Person("oid-hos", "hos@example.org"), [("head_of_safeguarding", "sussex")])
    cw.register_person("test", Person("oid-pc", "pc@example.org"), [])
    held = parse_time("2027-01-18T10:00")
    cw.register_conference(
        "test", Conference(REF, "sussex", "initial", None, held, None, "oid-chair", (Attendee("oid-pc", "police"),))
    )
    raised = cw.raise_dissent("oid-pc", REF, f"The threshold was not met for {NAME}'s children", confirm_name=True)
    dissent_id = raised.dissent.id
    assert dissent_id is not None
    cw.record_dissent("oid-chair", dissent_id, "raised")
    cw.decide_dissent("oid-hos", dissent_id, False, f"Having spoken with {NAME}'s school, the plan stands", "recorded")
    cw.record_complaint(
        "oid-cm", REF, parse_time("2027-01-19T10:00"), "parent", "decision", f"{NAME} disputes it", confirm_name=True
    )
    cw.record_step(
        "oid-cm",
        REF,
        "stage2",
        "stage1_meeting_held",
        parse_time("2027-01-19T15:00"),
        cw.version_of(db.events_for(REF)),
    )
    meeting = next(e for e in db.events_for(REF) if e.name == "stage1_meeting_held")
    cw.correct("oid-cm", REF, str(meeting.id), f"Entered against {NAME} in error", cw.version_of(db.events_for(REF)))
    return cw


def every_table_as_text(db: SqlStore) -> str:
    """Every row of every table, as text: where a name could hide."""
    out: list[str] = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            out += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    return "\n".join(out)


def dates(cw: Casework) -> list[tuple[str, str | None, str]]:
    view = cw._view(cw._case(REF))
    return [(d.id, d.as_dict()["due"], d.status) for t in view.timelines for d in t.deadlines]


def test_the_audit_log_holds_hashes_not_text(db: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    a_case_with_a_name_in_every_text(db)
    with db.engine.connect() as conn:
        audit = "\n".join(repr(tuple(r)) for r in conn.execute(text("SELECT * FROM audit_log")))
    assert NAME not in audit
    hashes = {v for e in db.audit_entries(REF) for k, v in e.detail.items() if k.endswith("_sha256")}
    assert len(hashes) == 4  # reason, decision's reasons, complaint summary, correction's reason
    assert text_hash(f"{NAME} disputes it") in hashes
    assert every_table_as_text(db).count(NAME) == 4  # each in its own record, once


def test_redaction_erases_one_text_and_the_chain_verifies(db: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    cw = a_case_with_a_name_in_every_text(db)
    before = dates(cw)
    why = "A family member's name was typed by mistake"
    for field in ("dissent-reason", "decision-reasons", "complaint-summary", "correction-reason"):
        code, out, err = cpc(capsys, "case", "redact", REF, "--field", field, "--why", why, "--as", "oid-cm")
        assert (code, err) == (0, ""), (field, err)
        assert out.startswith(f"{REF}: Redacted:")
    assert NAME not in every_table_as_text(db)
    assert "[redacted on Wed 20 Jan 2027: A family member's name was typed by mistake]" in every_table_as_text(db)
    redactions = [e for e in db.audit_entries(REF) if e.action == "case.redacted"]
    assert len(redactions) == 4 and all("text_sha256" in e.detail for e in redactions)
    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 0, out
    assert dates(cw) == before
    # Again: already erased, nothing new written.
    code, out, _ = cpc(capsys, "case", "redact", REF, "--field", "dissent-reason", "--why", why, "--as", "oid-cm")
    assert code == 0 and "already erased" in out
    assert len([e for e in db.audit_entries(REF) if e.action == "case.redacted"]) == 4


def test_redaction_is_for_admins_and_complaints_managers(db: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    a_case_with_a_name_in_every_text(db)
    why = "A family member's name was typed by mistake"
    code, _, err = cpc(capsys, "case", "redact", REF, "--field", "dissent-reason", "--why", why, "--as", "oid-pc")
    assert code == 1 and err.startswith("cpc: refused: only an administrator or a complaints manager")
    assert NAME in every_table_as_text(db)
    code, _, err = cpc(capsys, "case", "redact", REF, "--field", "dissent-reason", "--why", "short", "--as", "oid-cm")
    assert code == 1 and "at least 10 characters" in err


def test_retention_removes_a_closed_cases_text_after_six_years(
    db: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cw = a_case_with_a_name_in_every_text(db)
    for step, at in (("stage1_meeting_held", "2027-01-19T16:00"), ("stage1_response_sent", "2027-01-20T09:00")):
        cw.record_step("oid-cm", REF, "stage2", step, parse_time(at), cw.version_of(db.events_for(REF)))
    cw.record_outcome("oid-cm", REF, "confirmed", cw.version_of(db.events_for(REF)), EXPLANATION)
    before = dates(cw)
    # Closed at its last audited action (written now, in real time); kept 6 years to that date.
    closed = max(e.at for e in db.audit_entries(REF)).date()
    kept_until = (
        closed.replace(year=closed.year + 6)
        if (closed.month, closed.day) != (2, 29)
        else closed.replace(year=closed.year + 6, day=28)
    )
    noon = datetime.combine(kept_until, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    monkeypatch.setattr(cli_case, "clock", lambda: noon)
    code, out, _ = cpc(capsys, "retention", "apply", "--dry-run")
    assert code == 0 and "no closed case is past its retention period" in out
    monkeypatch.setattr(cli_case, "clock", lambda: noon + timedelta(days=1))
    code, out, _ = cpc(capsys, "retention", "apply", "--dry-run")
    # Four texts that hold the name, and the explanation the confirmed outcome was given with.
    assert code == 0 and out.startswith(f"{REF}: closed ") and "5 text(s) would be removed" in out
    assert NAME in every_table_as_text(db)  # a dry run changes nothing
    code, out, _ = cpc(capsys, "retention", "apply")
    assert code == 0 and "removed 5 text(s) from 1 case(s)" in out
    assert NAME not in every_table_as_text(db)
    (entry,) = [e for e in db.audit_entries(REF) if e.action == "case.retention_applied"]
    assert len(entry.detail["removed"]) == 5
    assert cpc(capsys, "audit", "verify")[0] == 0
    monkeypatch.setattr(cli_case, "clock", lambda: NOW + timedelta(days=1))
    assert dates(cw) == before


def test_an_open_case_is_kept(
    db: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a_case_with_a_name_in_every_text(db)  # its complaint is still open
    monkeypatch.setattr(cli_case, "clock", lambda: datetime(2040, 1, 1, tzinfo=UTC))
    code, out, _ = cpc(capsys, "retention", "apply")
    assert code == 0 and "no closed case" in out and NAME in every_table_as_text(db)
