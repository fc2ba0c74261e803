"""What a card or a typed command carries, read and checked before casework sees it: ids, texts,
dates as the user gave them, confirmations; and the reply type the handler sends (bot/turns.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from bot.views import Card
from casework.clock import local_moment, start_of_day
from casework.errors import InvalidInput, MalformedTime
from casework.service import Changed


def int_of(data: Mapping[str, Any], key: str) -> int:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).isdigit():
        raise Bad(f"the card is missing its {key}; open a fresh one with the command")
    return int(v)


def text_of(data: Mapping[str, Any], key: str, what: str) -> str:
    v = data.get(key)
    if not isinstance(v, str) or not v.strip():
        raise Bad(f"{what} is required")
    return v.strip()


class Bad(InvalidInput):
    """A card's data is missing or malformed: the form comes back with the message beside it."""


@dataclass(frozen=True)
class Reply:
    """A reply, and whether the action queued notices (so the sweep is woken to send them)."""

    body: Card | str
    notified: bool = False


def given(text: str, clock: str) -> date | datetime:
    """A date as the user gave it: with a time when one was typed, else a plain date (issue 9 item 4).

    A time in the hour the clocks go back (it happens twice) or forward (it never happens) is refused
    by casework (:func:`casework.clock.local_moment`); the form comes back with why, and the hint fits
    a Teams time box, which takes no offset.
    """
    try:
        d = date.fromisoformat(text.strip()[:10])
        if not clock.strip():
            return d
        naive = datetime.combine(d, time.fromisoformat(clock.strip()[:5]))
    except ValueError:
        raise Bad("give the date as YYYY-MM-DD (and the time, if you know it, as HH:MM)") from None
    try:
        return local_moment(naive, f"{d.isoformat()} {naive:%H:%M}", "the time", offsets=False)
    except MalformedTime as exc:
        raise Bad(str(exc)) from None


def step_date(text: str, clock: str = "") -> datetime:
    """A step's date: with no time typed, the day's start (the step is compared by date)."""
    moment = given(text, clock)
    return moment if isinstance(moment, datetime) else start_of_day(moment)


def who_is_told(changed: Changed) -> str:
    """Who the recorded dissent's notices go to, as queued (001 5.7.7(2)-(3)): never a line manager
    the register does not have."""
    kinds = {n.kind for n in changed.notices}
    told = [
        who
        for kind, who in (("line_manager_notice", "your line manager"), ("decision_request", "the reviewing manager"))
        if kind in kinds
    ]
    if changed.repeated:
        return "They were told when it was first recorded."
    if not told:
        return "No line manager or reviewing manager is on record to tell: ask your administrator to add them."
    missing = "" if "line_manager_notice" in kinds else " No line manager of yours is on record: tell them yourself."
    return " and ".join(told).capitalize() + (" is" if len(told) == 1 else " are") + " being told." + missing


def confirmed(data: Mapping[str, Any], key: str) -> bool:
    """A card's confirmation box or button: "true" when ticked or pressed."""
    return str(data.get(key) or "").lower() == "true"


def twice(changed: Changed) -> str:
    """Said when this answers a repeat: the first action's answer, and that nothing was done twice."""
    return " This was sent more than once: it is recorded once." if changed.repeated else ""
