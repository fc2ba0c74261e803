"""cpc db upgrade / people add / conference add / audit verify against a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "var" / "cpc.sqlite3"
    monkeypatch.setenv("CPC_DATABASE_URL", f"sqlite:///{path}")
    return path


def cpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_administration_round_trip_and_audit(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cpc(capsys, "db", "upgrade")[0] == 0
    assert db.exists()
    code, out, _ = cpc(
        capsys,
        "people",
        "add",
        "--id",
        "oid-chair",
        "--email",
        "Chair@Example.org",
        "--agency",
        "social_care",
        "--role",
        "chair@sussex",
    )
    assert code == 0 and "chair@sussex" in out
    code, _, _ = cpc(capsys, "people", "add", "--id", "oid-pc", "--email", "pc@example.org", "--agency", "police")
    assert code == 0
    code, out, _ = cpc(
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
    assert code == 0 and "CPC-123" in out
    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 0 and "audit log intact: 3 entries" in out

    con = sqlite3.connect(db)
    con.execute("UPDATE audit_log SET action = 'conference.deleted' WHERE seq = 3")
    con.commit()
    con.close()
    code, out, _ = cpc(capsys, "audit", "verify")
    assert code == 1 and "entry 3 was edited after it was written" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["conference", "add", "--ref", "Smith family", "--area", "sussex"], "case reference"),
        (["conference", "add", "--ref", "CPC-1", "--area", "narnia"], "unknown area 'narnia'"),
        (["conference", "add", "--ref", "CPC-1", "--area", "sussex", "--held", "yesterday"], "malformed"),
        (
            [
                "conference",
                "add",
                "--ref",
                "CPC-1",
                "--area",
                "sussex",
                "--held",
                "2026-12-17T14:00",
                "--ended",
                "2026-12-17T13:00",
            ],
            "cannot end before it starts",
        ),
        (
            ["conference", "add", "--ref", "CPC-1", "--area", "sussex", "--attendee", "oid"],
            "PERSON_ID=AGENCY",
        ),
        (
            ["people", "add", "--id", "x", "--email", "x@example.org", "--role", "overlord"],
            "role must be one of",
        ),
        (["people", "add", "--id", "x", "--email", "not-an-email"], "expected an email address"),
        (["procedures", "apply", "--area", "narnia"], "narnia"),
        (["procedures", "check", "--dry-run"], "go with 'cpc procedures apply'"),
        (["procedures", "list", "--area", "sussex"], "go with 'cpc procedures apply'"),
    ],
)
def test_bad_administration_input(db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, out, err = cpc(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert "Traceback" not in out + err


def test_duplicate_conference_refused(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cpc(capsys, "conference", "add", "--ref", "CPC-9", "--area", "london")[0] == 0
    code, _, err = cpc(capsys, "conference", "add", "--ref", "CPC-9", "--area", "london")
    assert code == 2 and "already exists" in err


def test_procedures_apply_replans_every_case_and_a_dry_run_writes_nothing(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cpc(capsys, "db", "upgrade")[0] == 0
    for ref, area in (("CPC-1", "sussex"), ("CPC-2", "sussex"), ("CPC-3", "london")):
        assert cpc(capsys, "conference", "add", "--ref", ref, "--area", area, "--held", "2026-12-17T14:00")[0] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE conferences SET is_open = 0")  # as if judged closed under the old rules
    code, out, err = cpc(capsys, "procedures", "apply", "--area", "sussex", "--dry-run")
    assert code == 0 and err == ""
    assert out.startswith("Dry run, nothing written. 2 cases in sussex: 2 would be open (2 of them closed now),")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM conferences WHERE is_open").fetchone() == (0,)
    code, out, _ = cpc(capsys, "procedures", "apply", "--area", "sussex")
    assert code == 0 and out == "Applied the current rules to 2 cases in sussex: 2 open, 2 opened again, 0 closed.\n"
    with sqlite3.connect(db) as conn:
        judged = dict(conn.execute("SELECT reference, is_open FROM conferences").fetchall())
    assert judged["CPC-3"] == 0  # another area: left as it was
    assert {judged["CPC-1"], judged["CPC-2"]} == {1}  # held in December 2026: the dissent window runs yet
