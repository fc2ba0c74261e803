"""``cpc people add``, ``cpc conference add`` (through casework's registry commands) and ``cpc case
events`` / ``cpc case correct``, against a real database on each backend.

Exit codes: 0 done; 2 a bad argument (one line on stderr); 1 refused by casework (one line, its message).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app import cli_case
from app.cli import main
from app.procedures import load_catalogue
from casework.clock import parse_time
from casework.free_text import text_hash
from casework.records import Attendee, Conference, Person
from casework.service import Casework
from store.sql import SqlStore, open_store

REF = "CPC-123"
NOW = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)
REASON = "Recorded against the wrong case by mistake"


def cpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def db(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlStore]:
    """The database the command line uses, registered through it, and a store open on it."""
    monkeypatch.setenv("CPC_DATABASE_URL", store_url)
    monkeypatch.setattr(cli_case, "clock", lambda: NOW)
    store = open_store(store_url)
    try:
        yield store
    finally:
        store.close()


def register(capsys: pytest.CaptureFixture[str]) -> None:
    people = [
        ("oid-chair", "chair@example.org", "chair@sussex"),
        ("oid-cm", "cm@example.org", "complaints_manager@sussex"),
        ("oid-admin", "admin@example.org", "admin"),
    ]
    for pid, email, role in people:
        assert cpc(capsys, "people", "add", "--id", pid, "--email", email, "--role", role)[0] == 0
    assert cpc(capsys, "people", "add", "--id", "oid-pc", "--email", "pc@example.org", "--agency", "police")[0] == 0
    code, out, err = cpc(
        capsys,
        "conference",
        "add",
        "--ref",
        "cpc-123",
        "--area",
        "sussex",
        "--held",
        "2026-12-17T14:00",
        "--chair",
        "oid-chair",
        "--attendee",
        "oid-pc=police",
    )
    assert (code, out, err) == (0, f"conference {REF} added to sussex\n", "")


def test_registry_writes_through_casework(
    db: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_case, "clock", lambda: parse_time("2026-12-17T15:00"))  # the window is open
    register(capsys)
    assert db.roles_of("oid-cm", "sussex") == {"complaints_manager"}
    assert db.roles_of("oid-admin", "london") == {"admin"}  # no @AREA: every area
    assert [(e.name, e.at, e.recorded_by) for e in db.events_for(REF)] == [
        ("conference_held", parse_time("2026-12-17T14:00"), "cli")
    ]
    added = [e for e in db.audit_entries(REF) if e.action == "conference.added"]
    assert [e.detail for e in added] == [
        {"area": "sussex", "type": "initial", "conference_held": "2026-12-17T14:00:00+00:00"}
    ]
    people = [e.detail["person"] for e in db.audit_entries() if e.action == "person.upserted"]
    assert people == ["oid-chair", "oid-cm", "oid-admin", "oid-pc"]
    # Planned in the same command: the attendee hears when the dissent window opens.
    assert {(r.rule_id, r.kind, r.person_id) for r in db.reminders_for(REF)} >= {("dissent-window", "opened", "oid-pc")}
    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 0 and "audit log intact: 5 entries" in out


def test_registry_command_is_one_unit_of_work(
    db: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    register(capsys)
    entries = len(db.audit_entries())

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(SqlStore, "append_audit", broken)
    with pytest.raises(RuntimeError):
        main(["conference", "add", "--ref", "CPC-9", "--area", "sussex", "--held", "2026-12-17T14:00"])
    with pytest.raises(RuntimeError):
        main(["people", "add", "--id", "oid-new", "--email", "new@example.org", "--role", "chair@sussex"])
    monkeypatch.undo()
    # Nothing of either command was kept: no conference, no event, no reminder, no person, no role.
    assert db.get_conference("CPC-9") is None and db.all_events_for("CPC-9") == [] and db.reminders_for("CPC-9") == []
    assert db.get_person("oid-new") is None and db.roles_of("oid-new", "sussex") == set()
    assert len(db.audit_entries()) == entries


def _case_with_steps(db: SqlStore) -> dict[str, int]:
    """The people and conference of :func:`register` (through the registry commands, without the command
    line), a complaint received Tue 22 Dec 2026, its Stage 1 meeting (Tue 29 Dec) and response (Tue 5 Jan);
    returns the event ids by name."""
    cw = Casework(db, load_catalogue().areas, lambda: NOW)
    for pid, email, roles in (
        ("oid-chair", "chair@example.org", [("chair", "sussex")]),
        ("oid-cm", "cm@example.org", [("complaints_manager", "sussex")]),
        ("oid-admin", "admin@example.org", [("admin", "*")]),
        ("oid-pc", "pc@example.org", []),
    ):
        cw.register_person("test", Person(pid, email), roles)
    held = parse_time("2026-12-17T14:00")
    cw.register_conference(
        "test", Conference(REF, "sussex", "initial", None, held, None, "oid-chair", (Attendee("oid-pc", "police"),))
    )
    cw.record_complaint("oid-cm", REF, parse_time("2026-12-22T10:00"), "parent", "decision", "the plan")
    for name, at in (("stage1_meeting_held", "2026-12-29T10:00"), ("stage1_response_sent", "2027-01-05T10:00")):
        cw.record_step("oid-cm", REF, "stage2", name, parse_time(at), cw.version_of(db.events_for(REF)))
    return {e.name: e.id for e in db.events_for(REF) if e.id is not None}


def test_case_events_and_correct(db: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _case_with_steps(db)
    code, out, err = cpc(capsys, "case", "events", "cpc-123")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{REF}: 4 event(s); withdrawn ones no longer count but stay on record"
    assert lines[1].split() == ["ID", "WHEN", "(Europe/London)", "EVENT", "RECORDED", "BY"]
    assert [line.split()[0] for line in lines[2:]] == [str(ids[n]) for n in ids]
    response = ids["stage1_response_sent"]
    assert lines[-1].split() == [str(response), "Tue", "05", "Jan", "2027", "10:00", "stage1_response_sent", "oid-cm"]

    code, out, err = cpc(capsys, "case", "correct", REF, "--event", str(response), "--reason", REASON, "--as", "oid-cm")
    assert (code, err) == (0, "")
    assert (
        out
        == f"{REF}: Withdrawn: stage1 response sent of Tue 5 Jan 2027, 10:00; the original stays in the audit trail\n"
    )
    assert "stage1_response_sent" not in [e.name for e in db.events_for(REF)]
    (entry,) = [e for e in db.audit_entries(REF) if e.action == "case.corrected"]
    assert (entry.actor, entry.detail["event_id"]) == ("oid-cm", response)
    assert entry.detail["reason_sha256"] == text_hash(REASON) and REASON not in str(entry.detail)
    code, out, _ = cpc(capsys, "case", "events", REF)
    row = out.splitlines()[-1]
    assert row.startswith(f"{response} ") and row.endswith(f"by oid-cm: {REASON}") and " withdrawn " in row
    assert cpc(capsys, "audit", "verify")[0] == 0


R, A = ("--reason", REASON), ("--as", "oid-cm")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["Smith", "--event", "1", *R, *A], "not a case reference of this authority"),
        (["CPC-999", "--event", "1", *R, *A], "there is no conference CPC-999"),
        ([REF, "--event", "abc", *R, *A], "--event 'abc': expected an event id"),
        ([REF, "--event", "999", *R, *A], f"--event 999: no event of {REF} has this id"),
        (
            [REF, "--event", "1", "--reason", "typo", *A],
            "--reason: give why the step was wrong, at least 10 characters",
        ),
        ([REF, "--event", "1", *R, "--as", "oid-nobody"], "--as 'oid-nobody': nobody is registered"),
        ([REF, *R, *A], "the following arguments are required: --event"),
        ([REF, "--event", "1", *R], "the following arguments are required: --as"),
    ],
)
def test_correct_bad_arguments_exit_2(
    db: SqlStore, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    _case_with_steps(db)
    before = (db.all_events_for(REF), db.events_for(REF), len(db.audit_entries()))
    code, out, err = cpc(capsys, "case", "correct", *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and needle in err, err
    assert "Traceback" not in err
    assert (db.all_events_for(REF), db.events_for(REF), len(db.audit_entries())) == before


def test_correct_refused_by_casework_exit_1(db: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _case_with_steps(db)
    cw = Casework(db, load_catalogue().areas, lambda: NOW)
    cw.raise_dissent("oid-pc", REF, "The threshold for a plan is not met")
    dissent = next(e.id for e in db.events_for(REF) if e.name == "dissent_raised")
    refusals = [
        # A later step depends on the one named (001 5.7.16): withdraw the response first.
        ("oid-cm", ids["stage1_meeting_held"], "Stage 1 meeting held cannot be withdrawn: Stage 1 response sent"),
        ("oid-pc", ids["stage1_response_sent"], f"corrections on {REF} are for its chair, a complaints manager"),
        # A complaints manager corrects complaint steps only; the conference is the chair's or an admin's.
        ("oid-cm", ids["conference_held"], f"corrections on {REF} are for its chair, a complaints manager"),
        ("oid-admin", dissent, "a dissent is changed through its own steps"),
    ]
    for actor, event_id, needle in refusals:
        before = (db.all_events_for(REF), db.events_for(REF), len(db.audit_entries()), db.reminders_for(REF))
        code, out, err = cpc(
            capsys, "case", "correct", REF, "--event", str(event_id), "--reason", REASON, "--as", actor
        )
        assert code == 1 and out == "" and err.count("\n") == 1, (actor, err)
        assert err.startswith("cpc: refused: ") and needle in err, err
        assert (db.all_events_for(REF), db.events_for(REF), len(db.audit_entries()), db.reminders_for(REF)) == before
    # The admin may withdraw the conference's own event (entered wrongly): done; the same correction again
    # is answered as the first was, and nothing more is written.
    argv = ["case", "correct", REF, "--event", str(ids["conference_held"]), "--reason", REASON, "--as", "oid-admin"]
    assert cpc(capsys, *argv)[0] == 0
    entries = len(db.audit_entries())
    code, out, _ = cpc(capsys, *argv)
    assert code == 0 and "Withdrawn" in out and len(db.audit_entries()) == entries, out


def test_conference_held_as_a_bare_date_is_refused_where_hours_count(
    db: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    # Pan-Sussex 5.7.4 counts 72 hours from the conference: 00:00 would end the window up to a day early.
    code, out, err = cpc(capsys, "conference", "add", "--ref", "CPC-9", "--area", "sussex", "--held", "2026-12-17")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "gives no time" in err and "72 hours" in err
    assert db.get_conference("CPC-9") is None
    # London's dissent (8.13) sets no hours, so a date alone is kept as a date.
    code, _, err = cpc(capsys, "conference", "add", "--ref", "CPC-10", "--area", "london", "--held", "2026-12-17")
    assert code == 0, err


REFUSED = (
    "cpc: error: that is not a case reference of this authority: references look like CPC- followed by digits, "
    "for example CPC-123; names are never used\n"
)


@pytest.mark.parametrize("ref", ["SMITH-2015", "JANE-SMITH-1", "Jane Smith"])
def test_a_name_like_reference_is_refused_in_one_line(
    db: SqlStore, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    code, out, err = cpc(capsys, "conference", "add", "--ref", ref, "--area", "sussex", "--held", "2026-12-17T14:00")
    assert (code, out, err) == (2, "", REFUSED)
    assert db.list_conferences() == [] and db.audit_entries() == []
    assert cpc(capsys, "case", "events", ref) == (2, "", REFUSED)


def test_the_authority_pattern_from_the_settings(
    db: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPC_REFERENCE_PATTERN", r"^LBH/\d{4}/\d{3}$")
    code, out, err = cpc(capsys, "conference", "add", "--ref", "lbh/2024/001", "--area", "london")
    assert (code, out, err) == (0, "conference LBH/2024/001 added to london\n", "")
    code, out, err = cpc(capsys, "conference", "add", "--ref", "CPC-1", "--area", "london")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "references match the pattern ^LBH/\\d{4}/\\d{3}$; names are never used" in err
    code, out, _ = cpc(capsys, "case", "events", "LBH/2024/001")
    assert code == 0 and out.startswith("LBH/2024/001: 0 event(s)")
    monkeypatch.setenv("CPC_REFERENCE_PATTERN", "^LBH/(")
    code, _, err = cpc(capsys, "conference", "add", "--ref", "LBH/2024/002", "--area", "london")
    assert code == 2 and err.startswith("cpc: error: CPC_REFERENCE_PATTERN: (regex): expected a regular expression")


def test_the_demo_case_has_a_cpc_reference(db: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cpc(capsys, "demo")
    assert code == 0 and err == "" and out.startswith("demo conference CPC-90001 (sussex) held two hours ago")
    assert "status CPC-90001" in out
    assert db.get_conference("CPC-90001") is not None
