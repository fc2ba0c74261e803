"""Specific exceptions, each with a message a chair or complaints manager could act on."""

from __future__ import annotations

from datetime import datetime


class CaseworkError(Exception):
    """Base class: every domain refusal is one of these, never a bare ValueError."""


class UnknownArea(CaseworkError):
    def __init__(self, area: str, known: list[str]) -> None:
        super().__init__(f"unknown area {area!r}; known areas: {', '.join(sorted(known)) or 'none'}")
        self.area = area


class UnknownProcess(CaseworkError):
    def __init__(self, process: str, area: str, known: list[str]) -> None:
        super().__init__(f"unknown process {process!r} for area {area!r}; choose one of: {', '.join(sorted(known))}")
        self.process = process


class UnknownEvent(CaseworkError):
    def __init__(self, event: str, area: str, known: list[str]) -> None:
        super().__init__(f"unknown event {event!r} for area {area!r}; known events: {', '.join(sorted(known))}")
        self.event = event


class MalformedTime(CaseworkError):
    def __init__(self, text: str, what: str = "time") -> None:
        super().__init__(
            f"malformed {what} {text!r}: use ISO 8601, for example 2026-12-17T14:00 "
            "(Europe/London when no offset is given) or 2026-12-17T14:00:00+00:00"
        )
        self.text = text


class AmbiguousTime(MalformedTime):
    """A wall-clock time in the hour the clocks go back, which happens twice: never read silently.
    The message (composed by :func:`casework.clock.local_moment`) names both readings."""

    def __init__(self, message: str, text: str) -> None:
        CaseworkError.__init__(self, message)
        self.text = text


class NonexistentTime(MalformedTime):
    """A wall-clock time in the hour the clocks skip when they go forward: it names no moment."""

    def __init__(self, message: str, text: str) -> None:
        CaseworkError.__init__(self, message)
        self.text = text


class MalformedPeriod(CaseworkError):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"malformed period {text!r}: expected a number and a unit, for example '72 hours', "
            "'10 working days', '28 days', '10 weeks', '3 months' or '1 working week'"
        )
        self.text = text


class EventOrderError(CaseworkError):
    """An event dated before the event it must follow (for example a dissent before the conference)."""

    def __init__(
        self, event: str, at: str, must_follow: str, follow_at: str, why: str = "", moment: datetime | None = None
    ) -> None:
        because = f" ({why})" if why else ""
        super().__init__(f"{event} ({at}) is before {must_follow} ({follow_at}); it cannot come before it{because}")
        self.event = event
        self.must_follow = must_follow
        self.moment = moment


class ReconvenedTooEarly(EventOrderError):
    """A later occurrence of an event that completes a rule only once that rule has started: a
    reconvened conference (a second ``conference_held``) before the dissent was upheld, or with no
    uphold at all (001 5.7.7(4)). Occurrences are ordered by time, so the earliest is the original."""

    def __init__(
        self,
        event: str,
        original: str,
        later: str,
        rule: str,
        title: str,
        start: str,
        start_at: str,
        source: str,
        moment: datetime | None = None,
    ) -> None:
        head = f"{event} is given more than once: the earliest ({original}) is taken as the original and {later} as"
        if start_at:
            message = (
                f"{head} the one for '{title}' ({rule}), which cannot come before {start} ({start_at}) [{source}]; "
                f"the later {event} cannot be dated before the original, nor before {start}"
            )
        else:
            message = (
                f"{head} the one for '{title}' ({rule}), which follows {start} [{source}], and {start} is not "
                f"given; give {start}, or give {event} once"
            )
        CaseworkError.__init__(self, message)
        self.event = event
        self.must_follow = start
        self.moment = moment


class UnknownDiscretion(CaseworkError):
    """Discretion asked for a rule that is not a window of the process (only a window's late exercise
    can be accepted at the chair's discretion: 000 §3; 001 5.7.4, 5.7.13)."""

    def __init__(self, rule_id: str, process: str, area: str, windows: list[str]) -> None:
        can = (
            f"discretion can be recorded only for its window rules: {', '.join(windows)}"
            if windows
            else "it has no window rule, so no discretion can be recorded"
        )
        super().__init__(f"{rule_id!r} is not a window rule of the {process} process of {area}; {can}")
        self.rule_id = rule_id


class EventNotUsed(CaseworkError):
    """An event no rule of the chosen process starts, completes or depends on: it would change nothing."""

    def __init__(self, event: str, process: str, area: str, used_by: list[str]) -> None:
        where = f"it is used by: {', '.join(used_by)}" if used_by else f"no process of {area} uses it"
        super().__init__(f"{event} is not used by the {process} process of {area}; {where}")
        self.event = event
        self.used_by = tuple(used_by)


class TimeOfDayNeeded(CaseworkError):
    """A date with no time for an event that starts a window counted in hours: taken as 00:00 it would
    cut the window short (001 5.7.4: "within 72 hours of the conference meeting")."""

    def __init__(self, event: str, day: str, rule: str, period: str, source: str) -> None:
        super().__init__(
            f"{event}={day} gives no time, but {event} starts the {period} of {rule} ({source}), and taken as "
            f"00:00 the {period} would end too early; give the time, for example {event}={day}T14:00"
        )
        self.event = event


class CalendarRangeError(CaseworkError):
    def __init__(self, year: int, first: int, last: int) -> None:
        super().__init__(f"date in {year} is outside the working-day calendar ({first} to {last})")


class PackError(CaseworkError):
    """A procedure pack that does not validate: names the file, the key and what was expected."""

    def __init__(self, origin: str, key: str, expected: str) -> None:
        super().__init__(f"{origin}: {key}: expected {expected}")
        self.origin = origin
        self.key = key
        self.expected = expected


class PanelCompositionError(CaseworkError):
    """A proposed panel that breaks the area's rules; the message cites the rule and its source."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the proposed panel breaks the area's rules: " + "; ".join(problems))
        self.problems = problems


class AuditChainBroken(CaseworkError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("audit log failed verification: " + "; ".join(problems))
        self.problems = problems


class UnknownConference(CaseworkError):
    def __init__(self, reference: str) -> None:
        super().__init__(f"there is no conference {reference} on record; check the case reference")
        self.reference = reference


class NotEntitled(CaseworkError):
    """The person may not take this action (wrong role, not an attendee, not the chair)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


#: Who adds people, when the authority has not said (``CPC_ADMIN_CONTACT``).
DEFAULT_ADMIN = "your local authority's administrator for this bot"


def admin_contact(configured: str = "") -> str:
    """Who adds people to the register, in words (``CPC_ADMIN_CONTACT``, else a general description)."""
    return configured.strip() or DEFAULT_ADMIN


class UnknownPerson(CaseworkError):
    """Someone the register does not know. Told who adds people (``CPC_ADMIN_CONTACT``), never an
    administrator's command: they cannot run it."""

    def __init__(self, contact: str = "") -> None:
        super().__init__(
            f"You are not registered with the conference challenge bot yet. Ask {admin_contact(contact)} to add you."
        )


class StaleAction(CaseworkError):
    """A card drawn for one state of the case, used after the case has moved on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class AlreadyDone(CaseworkError):
    """The same action a second time (a double click or a replayed payload): nothing changes."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidInput(CaseworkError):
    """A malformed command or form: the message shows the right form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class DuplicateRecord(CaseworkError):
    """A unique constraint stopped a second copy of a record (two requests racing, or a replay).

    The store raises it after rolling the whole action back; the command then answers with the
    action that was recorded first (issue 9: a racing duplicate gets the first action's answer).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)


class SecondComplaint(InvalidInput):
    """A complaint like one already recorded (same case, day and complainant, other grounds or summary):
    recorded only when the user confirms it is a second complaint."""


class PossibleName(InvalidInput):
    """Free text that looks as if it holds a personal name (casework.names): recorded only once the
    person confirms it (issue 14 item 7). The message never repeats the words, which may be a name."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__("This looks like it may contain a name. Case records use references. Send anyway or edit.")
