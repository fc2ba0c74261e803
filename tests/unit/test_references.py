"""Case references by the authority's own pattern: a name typed as a reference is refused, with the
expected form shown and without repeating what was typed."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.procedures import load_catalogue
from casework.packs import Area, build_area, resolve_packs, typed_reference
from casework.records import Person
from casework.references import DEFAULT_PATTERN, BadReference, describe, normalise_reference
from casework.service import Casework

LBH = r"^LBH/\d{4}/\d{3}$"
RULE = {
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


def pack(area_id: str = "x", **head: Any) -> dict[str, Any]:
    return {"area": {"id": area_id, "name": "X", "nation": "ENG", "seed": "001", **head}, "rules": [dict(RULE)]}


def built(raw: dict[str, Any], parent: Area | None = None) -> Area:
    area, errors = build_area(raw, "x.toml", parent)
    assert area is not None and errors == [], [str(e) for e in errors]
    return area


@pytest.mark.parametrize("text", ["SMITH-2015", "JANE-SMITH-1", "Jane Smith", "smith", "Smith family", "CPC-"])
def test_a_name_like_reference_is_refused_with_the_pattern_shown(text: str) -> None:
    with pytest.raises(BadReference) as caught:
        normalise_reference(text)
    message = str(caught.value)
    assert message == (
        "that is not a case reference of this authority: references look like CPC- followed by digits, "
        r"for example CPC-123; names are never used"
    )
    # What was typed may be a name: the refusal (shown, and perhaps logged) never repeats it.
    assert text.strip().upper() not in message.upper() or text == "CPC-"


@pytest.mark.parametrize("text", ["CPC-123", "cpc-123", "  Cpc-123 ", "CPC-0000000001"])
def test_cpc_and_digits_are_accepted_and_upper_cased(text: str) -> None:
    assert normalise_reference(text) == text.strip().upper()


@pytest.mark.parametrize("text", ["CPC-12345678901", "CPC-12A", "CPC-1/2", "XCPC-1", "CPC 123", "DEMO-1"])
def test_other_shapes_are_refused_by_the_default(text: str) -> None:
    with pytest.raises(BadReference):
        normalise_reference(text)


def test_an_authority_pattern_accepts_its_references_and_refuses_others() -> None:
    assert normalise_reference("lbh/2024/001", LBH) == "LBH/2024/001"
    for text in ("CPC-1", "LBH/24/1", "SMITH/2015/001"):
        with pytest.raises(BadReference, match=r"references match the pattern \^LBH/\\d\{4\}/\\d\{3\}\$; names"):
            normalise_reference(text, LBH)


def test_a_pattern_never_widens_the_basic_shape() -> None:
    """Whatever the pattern, a reference has a digit, no spaces and at most 40 characters."""
    for text in ("JANE SMITH 1", "SMITH", "A" + "1" * 40):
        with pytest.raises(BadReference):
            normalise_reference(text, r".*")


def test_several_patterns_any_one_will_do_and_the_refusal_names_them_all() -> None:
    both = [DEFAULT_PATTERN, LBH, LBH]
    assert normalise_reference("CPC-7", both) == "CPC-7"
    assert normalise_reference("LBH/2024/001", both) == "LBH/2024/001"
    with pytest.raises(BadReference) as caught:
        normalise_reference("SMITH-2015", both)
    assert str(caught.value) == (
        "that is not a case reference of this authority: references look like CPC- followed by digits, "
        r"for example CPC-123 or match the pattern ^LBH/\d{4}/\d{3}$; names are never used"
    )
    assert describe([]) == describe([DEFAULT_PATTERN])


def test_a_pack_names_its_pattern_and_an_extending_pack_inherits_it() -> None:
    assert built(pack()).reference_pattern == DEFAULT_PATTERN
    parent = built(pack(reference_pattern=LBH))
    assert parent.reference("lbh/2024/001") == "LBH/2024/001"
    with pytest.raises(BadReference, match="LBH"):
        parent.reference("CPC-1")
    child = built({"area": {"id": "y", "name": "Y", "seed": "001", "extends": "x"}}, parent)
    assert child.reference_pattern == LBH
    own = built(
        {"area": {"id": "z", "name": "Z", "seed": "001", "extends": "x", "reference_pattern": r"^Z\d+$"}}, parent
    )
    assert own.reference("z12") == "Z12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (r"^LBH/(\d+$", "a regular expression a whole case reference must match, not '^LBH/(\\\\d+$' (missing )"),
        ("", "a regular expression a whole case reference must match, not '' (it is empty)"),
        (12, "a regular expression a whole case reference must match, as a string"),
    ],
)
def test_a_bad_pattern_is_a_pack_error_naming_the_key(value: Any, expected: str) -> None:
    area, errors = build_area(pack(reference_pattern=value), "x.toml")
    assert area is None
    assert [(e.origin, e.key) for e in errors] == [("x.toml", "area.reference_pattern")]
    assert str(errors[0]).startswith(f"x.toml: area.reference_pattern: expected {expected}"), str(errors[0])


def test_a_broken_parent_pattern_fails_the_child_too() -> None:
    raws = {
        "x": (pack(reference_pattern="(("), "x.toml"),
        "y": ({"area": {"id": "y", "name": "Y", "seed": "001", "extends": "x"}, "rules": [dict(RULE)]}, "y.toml"),
    }
    areas, errors = resolve_packs(raws)
    assert areas == {}
    assert {(e.origin, e.key) for e in errors} == {("x.toml", "area.reference_pattern"), ("y.toml", "area.extends")}


def test_the_setting_overrides_every_pack(tmp_path: Path) -> None:
    (tmp_path / "kent.toml").write_text(
        '[area]\nid = "kent"\nname = "Kent"\nextends = "sussex"\nseed = "001_554f9f91afccd8e1.txt"\n'
        'reference_pattern = "^KENT-\\\\d+$"\n'
    )
    own = load_catalogue([tmp_path])
    assert not own.errors and own.areas["kent"].reference_pattern == r"^KENT-\d+$"
    assert own.areas["sussex"].reference_pattern == DEFAULT_PATTERN
    overridden = load_catalogue([tmp_path], reference_pattern=LBH)
    assert not overridden.errors
    assert {a.reference_pattern for a in overridden.areas.values()} == {LBH}


def test_a_bad_setting_is_an_error_naming_the_setting() -> None:
    cat = load_catalogue(reference_pattern="[CPC-")
    assert [(e.origin, e.key) for e in cat.errors] == [("CPC_REFERENCE_PATTERN", "(regex)")]
    assert "a regular expression a whole case reference must match, not '[CPC-'" in str(cat.errors[0])


def test_before_the_area_is_known_any_areas_pattern_will_do(areas: dict[str, Area]) -> None:
    from dataclasses import replace

    mixed = [replace(areas["sussex"], reference_pattern=LBH), areas["london"]]
    assert typed_reference("lbh/2024/001", mixed) == "LBH/2024/001"
    assert typed_reference("cpc-5", mixed) == "CPC-5"
    with pytest.raises(BadReference):
        typed_reference("SMITH-2015", mixed)


class _NoLookups:
    """A store that fails the test if it is asked for anything but who is asking (or a unit of work)."""

    def unit_of_work(self) -> Any:
        return contextlib.nullcontext(None)

    def get_person(self, person_id: str) -> Person:
        return Person(person_id, f"{person_id}@example.org")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was asked ({name}) for a reference that should have been refused")


def test_a_name_is_refused_before_any_lookup(areas: dict[str, Area]) -> None:
    cw = Casework(_NoLookups(), areas, lambda: datetime(2026, 12, 17, tzinfo=UTC))
    for call in (
        lambda: cw.conference("SMITH-2015"),
        lambda: cw.view("oid-pc", "JANE-SMITH-1"),
        lambda: cw.raise_dissent("oid-pc", "SMITH-2015", "The threshold for a plan is not met", None),
    ):
        with pytest.raises(BadReference, match="names are never used"):
            call()
