"""The booking window from the statutory timeline, and transaction ids (no I/O)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from casework.booking import PURPOSES, booking_window, purpose_of, statutory_deadline, transaction_id
from casework.clock import LONDON, parse_time
from casework.errors import InvalidInput
from casework.events import Event
from casework.packs import Area

NOW = parse_time("2026-12-15T09:00")


def events(**kw: str) -> list[Event]:
    return [Event(name, parse_time(at)) for name, at in kw.items()]


def eod(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=LONDON)


def test_transaction_ids_are_deterministic_uuid_shaped_and_distinct() -> None:
    a = transaction_id("CPC-42", "panel", 1)
    assert a == transaction_id("CPC-42", "panel", 1)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", a)
    others = {
        transaction_id("CPC-42", "panel", 2),
        transaction_id("CPC-43", "panel", 1),
        transaction_id("CPC-42", "stage2-meeting", 1),
    }
    assert a not in others and len(others) == 3


def test_hipps_panel_over_christmas_keeps_ten_working_days_for_the_letter(areas: dict[str, Area]) -> None:
    # 4LSCB Stage 2 (000 §3): stage2_requested Mon 14 Dec 2026. Panel within 28 days (Mon 11 Jan 2027) or
    # 20 working days: Dec 15(1) 16(2) 17(3) 18(4) 21(5) 22(6) 23(7) 24(8) [25 Christmas, 28 Boxing Day
    # substitute] 29(9) 30(10) 31(11) [1 Jan] Jan 4(12) 5(13) 6(14) 7(15) 8(16) 11(17) 12(18) 13(19)
    # 14(20): Thu 14 Jan. The sooner is Mon 11 Jan. Letter: 10 working days back from 11 Jan: Jan 8(1)
    # 7(2) 6(3) 5(4) 4(5) Dec 31(6) 30(7) 29(8) 24(9) 23(10): the panel must meet by Wed 23 Dec 2026.
    evs = events(conference_held="2026-10-01T10:00", stage2_requested="2026-12-14T10:00")
    w = booking_window(areas["hipps"], evs, NOW, "panel")
    assert w.deadline is not None and w.deadline.rule.id == "panel-convened"
    assert w.due == eod(2027, 1, 11)
    assert w.latest_end == eod(2026, 12, 23)
    assert "less 10 working days for the letter" in w.explanation
    plain = booking_window(areas["hipps"], evs, NOW, "panel", reserve_letter=False)
    assert plain.latest_end == eod(2027, 1, 11)


def test_sussex_stage3_panel(areas: dict[str, Area]) -> None:
    # Sussex 5.7.28: stage3_requested Mon 4 Jan 2027; 20 working days: Jan 5(1) ... 29(19) Feb 1(20) -> Mon 1 Feb.
    # Letter 5.7.30: Jan 29(1) 28(2) 27(3) 26(4) 25(5) 22(6) 21(7) 20(8) 19(9) 18(10) -> Mon 18 Jan.
    evs = events(conference_held="2026-11-02T10:00", stage3_requested="2027-01-04T10:00")
    w = booking_window(areas["sussex"], evs, NOW, "panel")
    assert (w.due, w.latest_end) == (eod(2027, 2, 1), eod(2027, 1, 18))


def test_england_statutory_review_panel_has_no_letter_time(areas: dict[str, Area]) -> None:
    # SI 2006/1738 reg 19: within 30 working days of stage3_requested, Mon 4 Jan 2027:
    # Jan 5..29 are 19 working days (Jan 5-8: 4, 11-15: 5, 18-22: 5, 25-29: 5), Feb 1-5: 24, Feb 8-12: 29, Feb 15: 30.
    evs = events(conference_held="2026-11-02T10:00", stage3_requested="2027-01-04T10:00")
    w = booking_window(areas["england-statutory"], evs, NOW, "panel")
    assert w.deadline is not None and w.deadline.rule.id == "review-panel"
    assert w.due == w.latest_end == eod(2027, 2, 15)


def test_sussex_stage2_meeting_within_28_days(areas: dict[str, Area]) -> None:
    # Sussex 5.7.18-5.7.19: stage2_requested Mon 14 Dec 2026 + 28 days = Mon 11 Jan 2027 (no letter reserved).
    evs = events(conference_held="2026-11-02T10:00", stage2_requested="2026-12-14T10:00")
    w = booking_window(areas["sussex"], evs, NOW, "stage2-meeting")
    assert w.deadline is not None and w.deadline.rule.id == "stage2-meeting"
    assert w.latest_end == eod(2027, 1, 11)


def test_an_undated_duty_needs_a_date_and_a_given_date_can_only_bring_it_forward(areas: dict[str, Area]) -> None:
    evs = events(conference_held="2026-11-02T10:00", stage3_requested="2027-01-04T10:00")
    w = booking_window(areas["oxfordshire"], evs, NOW, "panel")
    assert w.due is None and w.latest_end is None and "inter-agency-panel" in w.explanation
    given = booking_window(areas["oxfordshire"], evs, NOW, "panel", by=eod(2027, 2, 26))
    assert given.latest_end == eod(2027, 2, 26)
    sooner = booking_window(areas["sussex"], evs, NOW, "panel", by=eod(2027, 3, 1), reserve_letter=False)
    assert sooner.latest_end == eod(2027, 2, 1)  # the statutory date still wins


def test_before_the_clock_starts_there_is_no_date(areas: dict[str, Area]) -> None:
    evs = events(conference_held="2026-11-02T10:00")
    d = statutory_deadline(areas["sussex"], evs, NOW, "panel")
    assert d is not None and d.status == "waiting"
    assert booking_window(areas["sussex"], evs, NOW, "panel").latest_end is None
    assert statutory_deadline(areas["london"], evs, NOW, "panel") is None


def test_purposes() -> None:
    assert set(PURPOSES) == {"panel", "stage2-meeting"}
    assert purpose_of("panel").completes == "panel_held"
    with pytest.raises(InvalidInput, match="unknown meeting"):
        purpose_of("lunch")
