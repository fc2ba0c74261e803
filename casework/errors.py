"""Specific exceptions, each with a message a chair or complaints manager could act on."""

from __future__ import annotations


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


class MalformedPeriod(CaseworkError):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"malformed period {text!r}: expected a number and a unit, for example '72 hours', "
            "'10 working days', '28 days', '10 weeks', '3 months' or '1 working week'"
        )
        self.text = text


class EventOrderError(CaseworkError):
    """An event dated before the event it must follow (for example a dissent before the conference)."""

    def __init__(self, event: str, at: str, must_follow: str, follow_at: str) -> None:
        super().__init__(f"event {event} at {at} is before {must_follow} at {follow_at}; it cannot precede it")
        self.event = event
        self.must_follow = must_follow


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


class UnknownPerson(CaseworkError):
    def __init__(self) -> None:
        super().__init__(
            "you are not registered with the conference challenge bot yet; ask your safeguarding "
            "administrator to add you (cpc people add)"
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
