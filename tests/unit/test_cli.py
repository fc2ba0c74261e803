"""The cpc command line: JSON shape, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_timeline_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys,
        "timeline",
        "--area",
        "sussex",
        "--process",
        "dissent",
        "--event",
        "conference_held=2026-12-17T14:00",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["area"] == "sussex" and data["process"] == "dissent" and data["timezone"] == "Europe/London"
    for d in data["deadlines"]:
        assert {"id", "title", "kind", "due", "status", "responsible", "source", "explanation"} <= set(d)
    by_id = {d["id"]: d for d in data["deadlines"]}
    assert by_id["dissent-window"]["due"] == "2026-12-20T14:00:00+00:00"
    assert by_id["dissent-decision"]["due"] == "2027-01-05T23:59:59+00:00"
    assert by_id["dissent-reconvene"]["due"] is None


def test_timeline_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys,
        "timeline",
        "--area",
        "sussex",
        "--process",
        "dissent",
        "--event",
        "conference_held=2026-12-17T14:00",
    )
    assert code == 0
    assert "dissent-decision" in out and "Tue 05 Jan 2027 23:59" in out


def test_events_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "events.txt"
    f.write_text("# the conference\nconference_held=2026-12-17T14:00\n")
    code, out, _ = run_cli(
        capsys, "timeline", "--area", "sussex", "--process", "dissent", "--events-file", str(f), "--json"
    )
    assert code == 0 and "2026-12-20T14:00:00+00:00" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--area", "narnia", "--process", "dissent"], "unknown area 'narnia'"),
        (["--area", "sussex", "--process", "appeal"], "unknown process 'appeal'"),
        (
            ["--area", "sussex", "--process", "dissent", "--event", "tea_break=2026-12-17T14:00"],
            "unknown event 'tea_break'",
        ),
        (
            ["--area", "sussex", "--process", "dissent", "--event", "conference_held=17/12/2026"],
            "malformed time",
        ),
        (
            ["--area", "sussex", "--process", "dissent", "--event", "conference_held"],
            "expected NAME=ISO-TIME",
        ),
        (
            [
                "--area",
                "sussex",
                "--process",
                "dissent",
                "--event",
                "conference_held=2026-12-17T14:00",
                "--event",
                "dissent_raised=2026-12-16T14:00",
            ],
            "is before conference_held",
        ),
        (
            ["--area", "sussex", "--process", "dissent", "--events-file", "/nonexistent/events.txt"],
            "file not found",
        ),
        (["--area", "sussex"], "the following arguments are required: --process"),
    ],
)
def test_bad_input_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, out, err = run_cli(capsys, "timeline", *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0]
    assert "Traceback" not in err + out


def test_procedures_check_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "procedures", "check")
    assert code == 0 and "ok: 7 packs" in out
    code, out, _ = run_cli(capsys, "procedures", "list")
    assert code == 0 and "hampshire" in out and "extends hipps" in out


def test_procedures_check_reports_broken_user_pack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.toml").write_text(
        '[area]\nid = "bad"\nname = "B"\nnation = "ENG"\nseed = "s"\n'
        '[[rules]]\nid = "r"\nprocess = "dissent"\nkind = "window"\n'
        'title = "t"\nwithin = "ten days"\nof = "conference_held"\n'
        'completed_by = "dissent_raised"\nresponsible = "professional"\nsource = "s"\n'
    )
    monkeypatch.setenv("CPC_PROCEDURES_DIR", str(tmp_path))
    code, out, _ = run_cli(capsys, "procedures", "check")
    assert code == 1
    assert f"{tmp_path / 'bad.toml'}: rules[r].within: expected a period such as" in out


def test_real_entry_point_exit_code_and_no_traceback() -> None:
    exe = Path(sys.executable).parent / "cpc"
    res = subprocess.run(
        [
            str(exe),
            "timeline",
            "--area",
            "sussex",
            "--process",
            "dissent",
            "--event",
            "conference_held=not-a-time",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "malformed time" in res.stderr
    res = subprocess.run([str(exe), "frobnicate"], capture_output=True, text=True, check=False)
    assert res.returncode == 2 and res.stderr.count("\n") == 1


def test_a_database_that_cannot_be_read_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "cpc.sqlite3"
    broken.write_text("this is not a database\n")
    monkeypatch.setenv("CPC_DATABASE_URL", f"sqlite:///{broken}")
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cpc: error: the database failed:")
