"""Pack validation: every problem names the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.procedures import load_catalogue
from casework.packs import Area, build_area, resolve_packs

SEEDS = (
    "000_263c99b8cdce9ba9.txt",
    "001_554f9f91afccd8e1.txt",
    "002_9e481681acd141e8.txt",
    "003_0821576c46541519.txt",
    "004_974a7b50b4cfbdbf.txt",
)


def minimal(**rule: Any) -> dict[str, Any]:
    base = {
        "id": "r1",
        "process": "dissent",
        "kind": "window",
        "title": "t",
        "within": "72 hours",
        "of": "conference_held",
        "completed_by": "dissent_raised",
        "responsible": "professional",
        "source": "001_554f9f91afccd8e1.txt 5.7.4",
    }
    base.update(rule)
    return {"area": {"id": "x", "name": "X", "nation": "ENG", "seed": "001"}, "rules": [base]}


def errors_of(raw: dict[str, Any]) -> list[str]:
    _, errs = build_area(raw, "x.toml")
    return [str(e) for e in errs]


def test_builtin_packs_all_valid_and_cite_seeds(areas: dict[str, Area]) -> None:
    assert set(areas) == {
        "london",
        "sussex",
        "hipps",
        "hampshire",
        "oxfordshire",
        "city-hackney",
        "england-statutory",
    }
    for area in areas.values():
        for rule in area.rules:
            assert any(s in rule.source for s in SEEDS) or "SI 2006/1738" in rule.source, (area.id, rule.id)


def test_valid_minimal_pack() -> None:
    assert errors_of(minimal()) == []


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        ({"within": "72 fortnights"}, "rules[r1].within", "a period such as"),
        ({"kind": "deadline"}, "rules[r1].kind", "'window'"),
        ({"of": "conference_helt"}, "rules[r1].of", "a known event"),
        ({"responsible": "boss"}, "rules[r1].responsible", "one of the roles"),
        ({"source": ""}, "rules[r1].source", "a non-empty string"),
        ({"colour": "red"}, "rules[r1].colour", "no such key"),
        ({"before": "3 days"}, "rules[r1]", "exactly one of"),
        ({"process": "appeal"}, "rules[r1].process", "one of conference"),
        ({"extended": "20 working days"}, "rules[r1].extension_event", "the event that authorises"),
    ],
)
def test_rule_errors_name_file_key_and_expectation(change: dict[str, Any], key: str, expected: str) -> None:
    errs = errors_of(minimal(**change))
    assert errs, "expected a validation error"
    assert any(e.startswith(f"x.toml: {key}: expected") and expected in e for e in errs), errs


def test_step_without_number_needs_its_words() -> None:
    raw = minimal()
    del raw["rules"][0]["within"]
    errs = errors_of(raw)
    assert any("rules[r1].timescale" in e for e in errs)


def test_area_errors() -> None:
    raw = minimal()
    raw["area"]["nation"] = "FRA"
    assert any("area.nation: expected one of ENG" in e for e in errors_of(raw))


def test_extends_inherits_overrides_and_detects_cycles() -> None:
    parent = minimal()
    child = {
        "area": {"id": "y", "name": "Y", "seed": "001", "extends": "x"},
        "rules": [dict(parent["rules"][0], within="48 hours")],
    }
    areas, errs = resolve_packs({"x": (parent, "x.toml"), "y": (child, "y.toml")})
    assert errs == []
    assert areas["y"].nation == "ENG"
    assert areas["y"].rule("r1").candidates[0].period.text == "48 hours"  # type: ignore[union-attr]
    parent["area"]["extends"] = "y"
    _, errs = resolve_packs({"x": (parent, "x.toml"), "y": (child, "y.toml")})
    assert any("cycle" in str(e) for e in errs)


def test_user_directory_adds_and_replaces_packs(tmp_path: Path) -> None:
    (tmp_path / "kent.toml").write_text(
        '[area]\nid = "kent"\nname = "Kent"\nextends = "sussex"\nseed = "001_554f9f91afccd8e1.txt"\n'
        'closure_days = ["2026-12-24"]\n'
    )
    cat = load_catalogue([tmp_path])
    assert cat.errors == []
    kent = cat.areas["kent"]
    assert kent.rule("dissent-decision") is not None
    # A closure day on Christmas Eve moves the Sussex example a day: Wed 6 Jan 2027.
    from casework.clock import parse_time
    from casework.events import Event
    from casework.timeline import evaluate

    tl = evaluate(kent, "dissent", [Event("conference_held", parse_time("2026-12-17T14:00"))], parse_time("2026-12-18"))
    assert tl.get("dissent-decision").as_dict()["due"] == "2027-01-06T23:59:59+00:00"


def test_broken_user_pack_reported_with_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        '[area]\nid = "bad"\nname = "B"\nnation = "ENG"\nseed = "s"\n[[rules]]\nid = 3\n'
    )
    (tmp_path / "syntax.toml").write_text("[area\n")
    cat = load_catalogue([tmp_path])
    text = [str(e) for e in cat.errors]
    assert any(t.startswith(f"{tmp_path / 'bad.toml'}: rules[0].id: expected") for t in text), text
    assert any(t.startswith(f"{tmp_path / 'syntax.toml'}: (syntax): expected valid TOML") for t in text), text
    assert "sussex" in cat.areas  # one broken pack does not hide the others
