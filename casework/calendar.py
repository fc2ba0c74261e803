"""The working-day calendar of an area: weekdays that are neither bank holidays nor closure days.

Bank holidays come from ``holidays`` for the area's nation (substitute days are their own
"(observed)" entries). Working days are precomputed as a sorted list of ordinals so that adding N
working days is one bisect (ARCHITECTURE: Time; SDK-FACTS: holidays).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from holidays.countries.united_kingdom import UnitedKingdom

from casework.errors import CalendarRangeError

FIRST_YEAR = 2000
LAST_YEAR = 2075
NATIONS = ("ENG", "WLS", "SCT", "NIR")


@dataclass(frozen=True, slots=True)
class NonWorkingDay:
    day: date
    reason: str


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
        first = date(FIRST_YEAR, 1, 1).toordinal()
        last = date(LAST_YEAR, 12, 31).toordinal()
        self._first = first
        self._last = last
        reasons = self._reasons
        # date.fromordinal(o).weekday() == (o + 6) % 7
        self._days: list[int] = [o for o in range(first, last + 1) if (o + 6) % 7 < 5 and o not in reasons]
        # Weekday non-working days, sorted, to say which days a deadline skipped.
        self._weekday_holidays: list[int] = sorted(o for o in reasons if (o + 6) % 7 < 5)

    def _check(self, o: int) -> None:
        if o < self._first or o > self._last:
            raise CalendarRangeError(date.fromordinal(o).year, FIRST_YEAR, LAST_YEAR)

    def is_working_day(self, d: date) -> bool:
        o = d.toordinal()
        self._check(o)
        i = bisect_left(self._days, o)
        return i < len(self._days) and self._days[i] == o

    def add_working_days(self, d: date, n: int) -> date:
        """The Nth working day after ``d``; ``d`` itself is not counted, whatever day it is."""
        o = d.toordinal()
        self._check(o)
        i = bisect_right(self._days, o) + n - 1
        if n <= 0:
            raise ValueError("n must be at least 1")
        if i >= len(self._days):
            raise CalendarRangeError(LAST_YEAR + 1, FIRST_YEAR, LAST_YEAR)
        return date.fromordinal(self._days[i])

    def add_working_days_ordinal(self, o: int, n: int) -> int:
        """As :meth:`add_working_days` on ordinals: the hot path for timelines and benchmarks."""
        return self._days[bisect_right(self._days, o) + n - 1]

    def subtract_working_days(self, d: date, n: int) -> date:
        """The Nth working day before ``d`` (``d`` not counted): "N working days before E"."""
        o = d.toordinal()
        self._check(o)
        if n <= 0:
            raise ValueError("n must be at least 1")
        i = bisect_left(self._days, o) - n
        if i < 0:
            raise CalendarRangeError(FIRST_YEAR - 1, FIRST_YEAR, LAST_YEAR)
        return date.fromordinal(self._days[i])

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
