"""Statutory periods as written in the procedures: "72 hours", "10 working days", "3 months"...

Parsing the words once, at pack load, keeps the evaluation loop free of string handling. How long a
meeting may last is counted in minutes: "90 minutes", or "1½ hours" (004 8.9.10 "one and a half
hours"), which is kept as 90 minutes with its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from casework.errors import MalformedPeriod

Unit = Literal["minutes", "hours", "days", "working_days", "weeks", "months"]

_PATTERN = re.compile(
    r"^\s*(?P<n>\d{1,4})(?P<half>½)?\s+"
    r"(?P<unit>working\s+days?|working\s+weeks?|minutes?|hours?|days?|weeks?|months?|years?)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Period:
    """An amount of one unit. A working week is stored as five working days (ARCHITECTURE: Time)."""

    amount: int
    unit: Unit
    text: str

    def describe(self) -> str:
        return self.text


def parse_period(text: str) -> Period:
    """Parse the words used in the seeds; anything else is refused with the accepted forms."""
    m = _PATTERN.match(text)
    if not m:
        raise MalformedPeriod(text)
    n = int(m.group("n"))
    unit_words = " ".join(m.group("unit").lower().split())
    if m.group("half"):
        if not unit_words.startswith("hour"):
            raise MalformedPeriod(text)  # "½" is used only of hours ("1½ hours")
        return Period(n * 60 + 30, "minutes", text.strip())
    if unit_words.startswith("minute"):
        return Period(n, "minutes", text.strip())
    if unit_words.startswith("working week"):
        return Period(n * 5, "working_days", text.strip())
    if unit_words.startswith("working day"):
        return Period(n, "working_days", text.strip())
    if unit_words.startswith("hour"):
        return Period(n, "hours", text.strip())
    if unit_words.startswith("day"):
        return Period(n, "days", text.strip())
    if unit_words.startswith("week"):
        return Period(n, "weeks", text.strip())
    if unit_words.startswith("month"):
        return Period(n, "months", text.strip())
    return Period(n * 12, "months", text.strip())  # years
