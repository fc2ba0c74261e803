"""Every pack's timelines against the dates committed in tests/snapshots/ (see tests/snapshots/generate.py).

A change of code, pack or ``holidays`` version that moves a date fails here with a diff naming the
pack, process, scenario and deadline; ``make snapshots`` accepts the change. The last test proves the
net has no hole: a pack with one period longer by a day fails, and the diff shows that date moving.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.procedures import BUILTIN_DIR, load_catalogue
from casework.packs import Area
from tests.snapshots.generate import HINT, compare, path_for, render, snapshot, stale_files

PACKS = sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


@pytest.mark.parametrize("area_id", PACKS)
def test_pack_dates_match_the_committed_snapshot(areas: dict[str, Area], area_id: str) -> None:
    path = path_for(area_id)
    assert path.exists(), f"{path} is missing; {HINT}"
    committed = json.loads(path.read_text(encoding="utf-8"))
    diff = compare(committed, snapshot(areas[area_id]))
    if diff is not None:
        pytest.fail(diff, pytrace=False)


def test_snapshot_files_are_exactly_what_the_generator_writes(areas: dict[str, Area]) -> None:
    """Hand edits and stale files fail too: each file is its own canonical rendering, one per pack."""
    assert stale_files(areas) == [], f"snapshots of packs that no longer exist; {HINT}"
    for area_id in PACKS:
        text = path_for(area_id).read_text(encoding="utf-8")
        assert text == render(json.loads(text)), f"{area_id}.json is not in canonical form; {HINT}"


def test_generation_is_deterministic(areas: dict[str, Area]) -> None:
    area = areas[PACKS[0]]
    assert render(snapshot(area)) == render(snapshot(area))


def test_holidays_version_alone_does_not_fail(areas: dict[str, Area]) -> None:
    snap = snapshot(areas[PACKS[0]])
    assert compare({**snap, "holidays_version": "0.0"}, snap) is None


# "within = "28 days"" on its own line in a [[rules]] block: calendar days, so one more is exactly a day later.
WITHIN_DAYS = re.compile(r'^within = "(\d+) days"$', re.MULTILINE)


def _one_rule_a_day_longer(areas: dict[str, Area]) -> tuple[str, str, str, str]:
    """The first pack rule (sorted) counted in calendar days, with its TOML edited to one day more.

    Found rather than named, so that the test survives the packs being edited. Returns the area id,
    rule id, the original TOML text and the edited text.
    """
    for area_id in PACKS:
        text = (BUILTIN_DIR / f"{area_id}.toml").read_text(encoding="utf-8")
        blocks = text.split("[[rules]]")
        for i, block in enumerate(blocks[1:], start=1):
            m = re.search(r'^id = "([^"]+)"$', block, re.MULTILINE)
            rule = areas[area_id].rule(m.group(1)) if m else None
            found = WITHIN_DAYS.findall(block)
            if rule is None or len(found) != 1 or len(rule.candidates) != 1:
                continue
            longer = WITHIN_DAYS.sub(lambda w: f'within = "{int(w.group(1)) + 1} days"', block)
            edited = "[[rules]]".join([*blocks[:i], longer, *blocks[i + 1 :]])
            return area_id, rule.id, text, edited
    raise AssertionError("no pack has a rule 'within N days' to lengthen")


def _changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]


def _due_lines(lines: list[str], sign: str) -> dict[str, str]:
    """``{"area / process / scenario / rule": due}`` from the diff's removed (-) or added (+) due lines."""
    return dict(line[1:].split(" / due: ", 1) for line in lines if line.startswith(sign) and " / due: " in line)


def test_one_period_a_day_longer_fails_with_that_date_in_the_diff(areas: dict[str, Area], tmp_path: Path) -> None:
    area_id, rule_id, original, edited = _one_rule_a_day_longer(areas)
    assert edited != original
    # The edited pack, loaded by the project's own loader from a user directory (same id replaces).
    (tmp_path / f"{area_id}.toml").write_text(edited, encoding="utf-8")
    cat = load_catalogue([tmp_path])
    assert not cat.errors, [str(e) for e in cat.errors]
    changed_area = cat.areas[area_id]
    old_rule, new_rule = areas[area_id].rule(rule_id), changed_area.rule(rule_id)
    assert old_rule is not None and new_rule is not None
    old_period, new_period = old_rule.candidates[0].period, new_rule.candidates[0].period
    assert old_period is not None and new_period is not None
    assert (new_period.amount, new_period.unit) == (old_period.amount + 1, "days")

    # The snapshot test as it runs above fails against the committed file ...
    committed = json.loads(path_for(area_id).read_text(encoding="utf-8"))
    changed = snapshot(changed_area)
    assert compare(committed, changed) is not None
    # ... and, against the unchanged pack, reports that deadline's due date alone, one day later.
    diff = compare(snapshot(areas[area_id]), changed)
    assert diff is not None
    assert HINT in diff and f"pack {area_id!r}" in diff
    lines = _changed_lines(diff)
    assert lines, diff
    marker = re.compile(rf"^[+-]{re.escape(area_id)} / \w+ / [\w-]+ / {re.escape(rule_id)} / (due|status|skipped): ")
    assert all(marker.match(line) for line in lines), diff
    old_due = _due_lines(lines, "-")
    new_due = _due_lines(lines, "+")
    assert old_due and old_due.keys() == new_due.keys(), diff
    for where, old in old_due.items():
        before, after = datetime.fromisoformat(old), datetime.fromisoformat(new_due[where])
        # One calendar day on the local wall clock (across a clock change that is 23 or 25 hours).
        assert (after.date() - before.date(), after.time()) == (timedelta(days=1), before.time()), where
    # Readable: the first moved date, as a reviewer would see it in the failure.
    where, old = sorted(old_due.items())[0]
    assert f"-{where} / due: {old}" in diff
    assert f"+{where} / due: {new_due[where]}" in diff
