"""The rule behind the open flag (casework.openness): open duties, even overdue; running rights only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from casework.openness import has_open_work, is_open_deadline


@dataclass(frozen=True)
class FakeRule:
    kind: str


@dataclass(frozen=True)
class FakeDeadline:
    rule: FakeRule
    status: str
    applicable: bool = True
    id: str = "r"
    due: datetime | None = None
    chosen: None = None


@dataclass(frozen=True)
class FakeTimeline:
    deadlines: tuple[FakeDeadline, ...]
    process: str = "dissent"


@pytest.mark.parametrize(
    ("kind", "status", "applicable", "expected"),
    [
        ("duty", "pending", True, True),
        ("duty", "missed", True, True),  # overdue work stays open until it is done
        ("duty", "met", True, False),
        ("duty", "late", True, False),
        ("duty", "waiting", True, False),
        ("duty", "pending", False, False),
        ("window", "pending", True, True),
        ("window", "missed", True, False),  # a right that closed unused
        ("window", "met", True, False),
        ("flag", "pending", True, False),  # nobody's work
        ("flag", "late", True, False),
    ],
)
def test_which_deadlines_keep_a_case_open(kind: str, status: str, applicable: bool, expected: bool) -> None:
    assert is_open_deadline(FakeDeadline(FakeRule(kind), status, applicable)) is expected  # type: ignore[arg-type]


def test_a_case_is_open_while_any_timeline_has_open_work() -> None:
    closed = FakeTimeline((FakeDeadline(FakeRule("duty"), "met"), FakeDeadline(FakeRule("window"), "missed")))
    running = FakeTimeline((FakeDeadline(FakeRule("window"), "pending"),))
    assert not has_open_work([closed])  # type: ignore[list-item]
    assert has_open_work([closed, running])  # type: ignore[list-item]
    assert not has_open_work([])
