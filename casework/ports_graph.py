"""Ports for calendars, mail and booking records, with the records they speak in.

Adapters: ``graph/graph_calendar.py`` and ``graph/graph_mail.py`` (Microsoft Graph), the file ones in
``graph/outbox.py`` (``.ics`` and ``.eml`` under ``var/outbox/`` when no tenant is configured), and
``store/bookings.py`` for the booking records. Typing protocols and frozen records; no behaviour.
People are professionals and rooms, known by id and mailbox; no child or family name appears here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from casework.slots import Busy

INVITEE_KINDS: tuple[str, ...] = ("required", "optional", "resource")
#: Graph's ``responseStatus.response`` values.
RESPONSES: tuple[str, ...] = ("none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded")
#: ``pending``: the create was started (its transactionId is fixed) and not yet confirmed;
#: ``booked``; ``cancelled``; ``lost``: cancelled or deleted outside the bot.
BOOKING_STATES: tuple[str, ...] = ("pending", "booked", "cancelled", "lost")


# -- errors adapters raise through the ports -------------------------------------------------------


class CalendarError(Exception):
    """The calendar service refused or failed (after its retries); the message says what to do."""


class MailError(Exception):
    """Base class of mail failures; the outbox decides whether and when to try again."""


class MailThrottled(MailError):
    """429: nothing was sent; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "throttled") -> None:
        super().__init__(f"{message}; retry after {retry_after:g} s")
        self.retry_after = retry_after


class MailTransient(MailError):
    """503, 504, a timeout or a dropped connection: try again later (with the same idempotency key)."""


class MailRejected(MailError):
    """A permanent refusal (400, 403, a mailbox out of the app's scope): trying again will not help."""


# -- calendar ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Schedule:
    """One mailbox's busy blocks over the asked period, or why they could not be read."""

    address: str
    busy: tuple[Busy, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Invitee:
    email: str
    kind: str = "required"
    person_id: str | None = None


@dataclass(frozen=True)
class EventDraft:
    """What to put in the organiser's calendar; built only from stored values, so a retry is identical."""

    transaction_id: str
    reference: str
    purpose: str
    title: str
    start: datetime
    end: datetime
    invitees: tuple[Invitee, ...]
    papers: tuple[str, ...] = ()
    papers_source: str = ""  # the papers' citation as the invitation shows it: the procedure by name
    chair_id: str | None = None
    online: bool = True
    sequence: int = 0

    @property
    def subject(self) -> str:
        return f"{self.reference}: {self.title}"

    @property
    def room(self) -> Invitee | None:
        return next((i for i in self.invitees if i.kind == "resource"), None)


@dataclass(frozen=True)
class EventState:
    """An event as the calendar holds it; ``responses`` maps lower-cased mailboxes to Graph's response."""

    event_id: str
    transaction_id: str | None
    start: datetime
    end: datetime
    join_url: str | None = None
    responses: Mapping[str, str] = field(default_factory=dict)
    cancelled: bool = False


class Calendar(Protocol):
    @property
    def limitation(self) -> str | None:
        """None when availability is read from every calendar; otherwise what the answers cannot see."""
        ...

    async def get_schedules(self, addresses: Sequence[str], start: datetime, end: datetime) -> list[Schedule]: ...
    async def create_event(self, draft: EventDraft) -> EventState: ...
    async def update_event(self, event_id: str, draft: EventDraft) -> EventState: ...
    async def cancel_event(self, event_id: str, draft: EventDraft, comment: str) -> None: ...
    async def get_event(self, event_id: str) -> EventState | None: ...


# -- mail ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingEmail:
    """One message; ``key`` is its idempotency key (the same key is sent once)."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None
    key: str


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> str:
        """Send or write one message; returns where it went. Raises :class:`MailError` subclasses."""
        ...


# -- booking records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BookedInvitee:
    email: str
    kind: str = "required"
    person_id: str | None = None
    response: str = "none"
    prompted: bool = False


@dataclass(frozen=True)
class Booking:
    """A meeting the bot booked for a case: its transactionId, the event, the invitees and their answers."""

    reference: str
    purpose: str
    revision: int
    transaction_id: str
    state: str
    organiser: str
    start: datetime
    end: datetime
    invitees: tuple[BookedInvitee, ...]
    booked_by: str
    chair_id: str | None = None
    event_id: str | None = None
    join_url: str | None = None
    sequence: int = 0
    warnings: tuple[str, ...] = ()
    delay_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    checked_at: datetime | None = None
    id: int | None = None

    @property
    def room(self) -> BookedInvitee | None:
        return next((i for i in self.invitees if i.kind == "resource"), None)


class BookingStore(Protocol):
    def start_booking(self, booking: Booking) -> Booking:
        """Insert a ``pending`` booking; the same transactionId again returns the stored one."""
        ...

    def get_booking(self, transaction_id: str) -> Booking | None: ...
    def current_booking(self, reference: str, purpose: str) -> Booking | None:
        """The latest revision for the case and purpose, whatever its state."""
        ...

    def latest_revision(self, reference: str, purpose: str) -> int: ...
    def save_booking(self, booking: Booking) -> Booking:
        """Store every mutable field of the booking with this transactionId."""
        ...

    def open_bookings(self, now: datetime) -> list[Booking]:
        """Booked meetings that have not ended: the ones whose answers are polled."""
        ...

    def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        """Booked (and pending) meetings overlapping ``[start, end)``: the bot's own bookings."""
        ...


def busy_from_bookings(bookings: Sequence[Booking], addresses: Sequence[str]) -> dict[str, list[Busy]]:
    """Each address's busy blocks from the bot's own bookings (what a calendar without Graph knows)."""
    wanted = {a.lower(): a for a in addresses}
    out: dict[str, list[Busy]] = {a: [] for a in addresses}
    for b in bookings:
        if b.state not in ("pending", "booked"):
            continue
        for i in b.invitees:
            key = wanted.get(i.email.lower())
            if key is not None and i.response != "declined":
                out[key].append(Busy(b.start, b.end, "busy"))
    return out
