"""The working-day calendar of an area: weekdays that are neither bank holidays nor closure days.

Bank holidays come from ``holidays`` for the area's nation (substitute days are their own
"(observed)" entries). Working days are precomputed once as a sorted list and, for every day of the
calendar's years, a count of the working days before it: adding N working days is then two list
lookups and no search, which is what keeps a whole timeline (and a replan of every open case) cheap
(ARCHITECTURE: Time; SDK-FACTS: holidays; bench/calendar.py measures it against numpy).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import accumulate, repeat

from holidays.countries.united_kingdom import UnitedKingdom

from casework.errors import CalendarRangeError

FIRST_YEAR = 2000
LAST_YEAR = 2075
NATIONS = ("ENG", "WLS", "SCT", "NIR")
_FIRST = date(FIRST_YEAR, 1, 1).toordinal()
_LAST = date(LAST_YEAR, 12, 31).toordinal()


@dataclass(frozen=True, slots=True)
class NonWorkingDay:
    day: date
    reason: str


@lru_cache(maxsize=1)
def _all_dates() -> tuple[date, ...]:
    """Every day from 2000 to 2075 as a ``date``, made once and shared by all calendars, so that an
    answer is looked up rather than built (``date.fromordinal`` was a third of a call's cost)."""
    return tuple(map(date.fromordinal, range(_FIRST, _LAST + 1)))


class WorkingCalendar:
    """Working days for one nation plus an area's closure days, from 2000 to 2075."""

    def __init__(self, nation: str, closures: Iterable[date] = ()) -> None:
        if nation not in NATIONS:
            raise ValueError(f"nation must be one of {', '.join(NATIONS)}, not {nation!r}")
        self.nation = nation
        self.closures = frozenset(closures)
        # The United Kingdom's class itself: ``holidays.country_holidays("GB")`` resolves the code by
        # loading every country's module (over 0.1 s at each start), for the same holidays.
        bank = UnitedKingdom(subdiv=nation, years=range(FIRST_YEAR, LAST_YEAR + 1))  # type: ignore[no-untyped-call]
        self._reasons: dict[int, str] = {}
        for d, name in bank.items():
            self._reasons[d.toordinal()] = str(name)
        for d in self.closures:
            self._reasons.setdefault(d.toordinal(), "local closure day")
        self._first = first = _FIRST
        self._span = _LAST - _FIRST + 1
        reasons = self._reasons
        # date.fromordinal(o).weekday() == (o + 6) % 7
        working = [(o + 6) % 7 < 5 and o not in reasons for o in range(first, _LAST + 1)]
        self._days: list[int] = [first + k for k, w in enumerate(working) if w]
        # _before[k]: how many working days fall before ordinal first + k (k = 0 .. span). So the
        # first working day after ordinal o is _days[_before[o - first + 1]], the last one before it
        # _days[_before[o - first] - 1], and o is a working day when the two counts differ.
        self._before = array("i", accumulate(working, initial=0))
        all_dates = _all_dates()
        self._dates: list[date] = [all_dates[o - first] for o in self._days]
        # Weekday non-working days, sorted, to say which days a deadline skipped.
        self._weekday_holidays: list[int] = sorted(o for o in reasons if (o + 6) % 7 < 5)

    def _offset(self, d: date) -> int:
        """``d``'s place in the calendar's years, or a clear error outside them."""
        k = d.toordinal() - self._first
        if k < 0 or k >= self._span:
            raise CalendarRangeError(d.year, FIRST_YEAR, LAST_YEAR)
        return k

    def is_working_day(self, d: date) -> bool:
        k = self._offset(d)
        return self._before[k + 1] != self._before[k]

    def add_working_days(self, d: date, n: int) -> date:
        """The Nth working day after ``d``; ``d`` itself is not counted, whatever day it is.

        Inlined rather than built on :meth:`_offset`: it is the call a timeline makes most, and a
        method call is a fifth of its cost.
        """
        k = d.toordinal() - self._first
        if k < 0 or k >= self._span:
            raise CalendarRangeError(d.year, FIRST_YEAR, LAST_YEAR)
        if n <= 0:
            raise ValueError("n must be at least 1")
        i = self._before[k + 1] + n - 1
        if i >= len(self._dates):
            raise CalendarRangeError(LAST_YEAR + 1, FIRST_YEAR, LAST_YEAR)
        return self._dates[i]

    def add_working_days_batch(self, starts: Sequence[date], n: int | Sequence[int]) -> list[date]:
        """:meth:`add_working_days` for many starts: the same answers and the same errors, cheaper a date.

        ``n`` is one count for every start or one count per start. For callers that date many days
        at once (a reminder series, a replan), where the per-call overhead is most of the cost. Any
        start or answer outside the calendar's years raises :class:`CalendarRangeError`, and any
        count below 1 ``ValueError``, for the first date in order that fails, as the single call would.
        """
        if isinstance(n, int):
            counts: Iterable[int] = repeat(n, len(starts))
        elif len(n) != len(starts):
            raise ValueError(f"{len(n)} counts for {len(starts)} starts")
        else:
            counts = n
        base, span, before, dates = self._first - 1, self._span, self._before, self._dates
        out: list[date] = []
        append = out.append
        # A plain loop, measured: at the sizes callers have (tens of dates) it beats a comprehension
        # (a frame per call) and map chains, and it fails on the same date as a loop of single calls.
        try:
            for d, c in zip(starts, counts, strict=True):
                k = d.toordinal() - base  # k + 1 in add_working_days
                if k < 1 or k > span:
                    raise CalendarRangeError(d.year, FIRST_YEAR, LAST_YEAR)
                if c <= 0:
                    raise ValueError("n must be at least 1")
                append(dates[before[k] + c - 1])  # never negative: before[k] >= 0 and c >= 1
        except IndexError:
            raise CalendarRangeError(LAST_YEAR + 1, FIRST_YEAR, LAST_YEAR) from None
        return out

    def add_working_days_ordinal(self, o: int, n: int) -> int:
        """As :meth:`add_working_days` on ordinals, unchecked: for callers that have checked the range."""
        return self._days[self._before[o - self._first + 1] + n - 1]

    def subtract_working_days(self, d: date, n: int) -> date:
        """The Nth working day before ``d`` (``d`` not counted): "N working days before E"."""
        k = self._offset(d)
        if n <= 0:
            raise ValueError("n must be at least 1")
        i = self._before[k] - n
        if i < 0:
            raise CalendarRangeError(FIRST_YEAR - 1, FIRST_YEAR, LAST_YEAR)
        return self._dates[i]

    def skipped_between(self, start: date, end: date) -> list[NonWorkingDay]:
        """Weekday bank holidays and closure days strictly after ``start`` up to and including ``end``."""
        lo, hi = (start, end) if start <= end else (end, start)
        a = bisect_right(self._weekday_holidays, lo.toordinal())
        b = bisect_right(self._weekday_holidays, hi.toordinal())
        return [NonWorkingDay(date.fromordinal(o), self._reasons[o]) for o in self._weekday_holidays[a:b]]

    def reason(self, d: date) -> str | None:
        """Why ``d`` is not a working day, or None when it is one."""
        o = d.toordinal()
        if o in self._reasons:
            return self._reasons[o]
        if d.weekday() >= 5:
            return "weekend"
        return None


@lru_cache(maxsize=64)
def calendar_for(nation: str, closures: frozenset[date] = frozenset()) -> WorkingCalendar:
    """One shared calendar per nation and set of closure days (building one takes ~50 ms)."""
    return WorkingCalendar(nation, closures)
