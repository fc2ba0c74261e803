"""Reading one pack's fields, collecting every problem rather than stopping at the first.

Each reader records a :class:`~casework.errors.PackError` with the file, the key and what was
expected, so that ``cpc procedures check`` can list them all at once; the pack parsers
(:mod:`casework.packs`, :mod:`casework.pack_rules`) share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from casework.errors import MalformedPeriod, PackError
from casework.periods import parse_period


class Collector:
    """The problems found in one pack file, each with its key and what was expected."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.errors: list[PackError] = []

    def add(self, key: str, expected: str) -> None:
        self.errors.append(PackError(self.origin, key, expected))


def read_str(c: Collector, raw: Mapping[str, Any], key: str, where: str, required: bool = True) -> str | None:
    """A non-empty string at ``key`` (None, recorded, when it is absent and required, or not a string)."""
    v = raw.get(key)
    if v is None:
        if required:
            c.add(f"{where}.{key}" if where else key, "a non-empty string")
        return None
    if not isinstance(v, str) or not v.strip():
        c.add(f"{where}.{key}" if where else key, "a non-empty string")
        return None
    return v


def read_names(c: Collector, raw: Mapping[str, Any], key: str, where: str, known: frozenset[str]) -> tuple[str, ...]:
    """An event name or a list of them, each one the pack knows (canonical or declared in ``events``)."""
    v = raw.get(key, [])
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        c.add(f"{where}.{key}", "an event name or a list of event names")
        return ()
    for x in items:
        if x not in known:
            c.add(f"{where}.{key}", f"a known event (canonical or declared in 'events'), not {x!r}")
    return tuple(items)


def read_period(c: Collector, text: Any, key: str) -> Any:
    """A period in the seeds' words ("10 working days"), or None with the forms it may take recorded."""
    if not isinstance(text, str):
        c.add(key, "a period such as '10 working days'")
        return None
    try:
        return parse_period(text)
    except MalformedPeriod:
        c.add(key, "a period such as '72 hours', '10 working days', '28 days', '10 weeks' or '3 months'")
        return None


def read_dates(c: Collector, raw: Any, key: str) -> tuple[date, ...]:
    """A list of dates (closure days, meeting dates), sorted; a bad entry is recorded and left out."""
    if not isinstance(raw, list):
        c.add(key, "a list of dates (YYYY-MM-DD)")
        return ()
    out: list[date] = []
    for i, v in enumerate(raw):
        if isinstance(v, date):
            out.append(v)
            continue
        try:
            out.append(date.fromisoformat(str(v)))
        except ValueError:
            c.add(f"{key}[{i}]", "a date YYYY-MM-DD")
    return tuple(sorted(out))
