"""``cpc timeline`` refuses input that would silently mislead its answer: one line on stderr, exit code 2.

Dates by hand: Tue 1 Dec 2026 10:00 GMT + 72 elapsed hours (001 5.7.4) is Fri 4 Dec 2026 10:00. The
autumn clock change is on Sun 31 Oct 2027 and the spring one on Sun 28 Mar 2027 (each month's last
Sunday: see tests/unit/test_clock_changes.py); 01:30 BST there is 00:30 UTC, and 00:30 UTC + 72 hours
is Wed 3 Nov 2027 00:30 UTC, which is 00:30 GMT (the clocks have gone back by then).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main

SUSSEX = "Pan-Sussex (Brighton & Hove, East Sussex, West Sussex)"
HELD = "conference_held=2026-12-01T10:00"


def timeline(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["timeline", *argv])
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line a refused timeline prints, checked to be exactly one line with exit code 2."""
    code, out, err = timeline(capsys, *argv)
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("cpc: error: ")
    return lines[0].removeprefix("cpc: error: ")


def dissent(*events: str) -> list[str]:
    argv = ["--area", "sussex", "--process", "dissent"]
    for e in events:
        argv += ["--event", e]
    return argv


def test_a_discretion_for_an_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, *dissent(HELD), "--discretion", "dissent-windw")
    assert line == (
        f"'dissent-windw' is not a window rule of the dissent process of {SUSSEX}; discretion can be "
        "recorded only for its window rules: dissent-window"
    )


def test_b_birth_before_the_prebirth_conference(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--area", "london", "--process", "conference"]
    line = refused(capsys, *argv, "--event", "prebirth_conference_held=2027-01-11T10:00", "--event", "birth=2027-01-05")
    assert line == (
        "birth (Tue 5 Jan 2027) is before prebirth_conference_held (Mon 11 Jan 2027, 10:00); it cannot come "
        "before it (a pre-birth conference concerns an unborn child: 004_974a7b50b4cfbdbf.txt 8.14.1)"
    )
    # The same day with no time for the birth is accepted: it cannot be ordered within the day.
    code, _, err = timeline(
        capsys, *argv, "--event", "prebirth_conference_held=2027-01-11T10:00", "--event", "birth=2027-01-11", "--json"
    )
    assert code == 0, err


def test_c_reconvened_conference_before_the_original(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(
        capsys,
        *dissent(
            HELD,
            "dissent_raised=2026-12-02T09:00",
            "dissent_upheld=2026-12-08T12:00",
            "conference_held=2026-11-20T10:00",
        ),
    )
    assert line == (
        "conference_held is given more than once: the earliest (Fri 20 Nov 2026, 10:00) is taken as the "
        "original and Tue 1 Dec 2026, 10:00 as the one for 'Hold the reconvened conference' "
        "(dissent-reconvene), which cannot come before dissent_upheld (Tue 8 Dec 2026, 12:00) "
        "[001_554f9f91afccd8e1.txt 5.7.7(4)]; the later conference_held cannot be dated before the original, "
        "nor before dissent_upheld"
    )


def test_d_a_bare_date_for_the_72_hour_window(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, *dissent("conference_held=2026-12-01"))
    assert line == (
        "conference_held=2026-12-01 gives no time, but conference_held starts the 72 hours of dissent-window "
        "(001_554f9f91afccd8e1.txt 5.7.4), and taken as 00:00 the 72 hours would end too early; give the "
        "time, for example conference_held=2026-12-01T14:00"
    )


def test_d_a_bare_date_for_a_working_day_rule_stays_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = timeline(
        capsys, "--area", "sussex", "--process", "complaint", "--event", "conference_held=2026-12-01", "--json"
    )
    assert code == 0, err
    by_id = {d["id"]: d for d in json.loads(out)["deadlines"]}
    # 10 working days from Tue 1 Dec 2026: Wed 2 (1), Thu 3 (2), Fri 4 (3), Mon 7 (4), Tue 8 (5), Wed 9 (6),
    # Thu 10 (7), Fri 11 (8), Mon 14 (9), Tue 15 Dec 2026 (10).
    assert by_id["complaint-window"]["due"] == "2026-12-15T23:59:59+00:00"


def test_e_an_event_the_process_does_not_use(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, *dissent(HELD, "complaint_received=2026-12-03"))
    assert line == (
        f"complaint_received is not used by the dissent process of {SUSSEX}; it is used by: complaint. "
        "Use --process complaint."
    )


def test_f_a_bad_line_of_the_events_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "events.txt"
    f.write_text(f"# the conference\n{HELD}\n\nconference_ended 2026-12-01T12:00\n")
    argv = ["--area", "sussex", "--process", "dissent", "--events-file", str(f)]
    assert refused(capsys, *argv) == (
        f"{f}:4: 'conference_ended 2026-12-01T12:00': expected NAME=ISO-TIME, for example "
        "conference_held=2026-12-17T14:00"
    )
    f.write_text(f"{HELD}\n# a comment\ndissent_raised=2026-12-02T25:00\n")
    assert refused(capsys, *argv).startswith(f"{f}:3: malformed time for event dissent_raised '2026-12-02T25:00'")
    f.write_text(f"{HELD}\ncomplaint_received=2026-12-03\n")
    assert refused(capsys, *argv).startswith(f"{f}:2: complaint_received is not used by the dissent process")
    # An order error names the line of the event out of order.
    f.write_text(f"{HELD}\n\n\ndissent_raised=2026-11-30T10:00\n")
    assert refused(capsys, *argv) == (
        f"{f}:4: dissent_raised (Mon 30 Nov 2026, 10:00) is before conference_held (Tue 1 Dec 2026, 10:00); "
        "it cannot come before it"
    )


def test_g_an_ambiguous_autumn_time(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, *dissent("conference_held=2027-10-31T01:30"))
    assert line == (
        "time for event conference_held '2027-10-31T01:30' is ambiguous: 01:30 on Sun 31 Oct 2027 happens "
        "twice in UK time, as the clocks go back from 02:00 BST to 01:00 GMT: it is 01:30 BST = 00:30 UTC, "
        "or 01:30 GMT = 01:30 UTC; give the offset: 2027-10-31T01:30+01:00 for BST or "
        "2027-10-31T01:30+00:00 for GMT"
    )


def test_g_a_missing_spring_time(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, *dissent("conference_held=2027-03-28T01:30"))
    assert line == (
        "time for event conference_held '2027-03-28T01:30' does not exist: 01:30 on Sun 28 Mar 2027 is "
        "skipped in UK time, as the clocks go forward from 01:00 GMT to 02:00 BST; give the time the clock "
        "showed, or an offset (2027-03-28T01:30+00:00 is 02:30 BST)"
    )


def test_g_an_explicit_offset_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = timeline(capsys, *dissent("conference_held=2027-10-31T01:30+01:00"), "--json")
    assert code == 0, err
    by_id = {d["id"]: d for d in json.loads(out)["deadlines"]}
    assert by_id["dissent-window"]["due"] == "2027-11-03T00:30:00+00:00"


def test_g_a_bad_now_is_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(capsys, *dissent(HELD), "--now", "2027-10-31T01:30").startswith("--now '2027-10-31T01:30' is ambig")
