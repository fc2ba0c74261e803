"""The file outbox, used when no Microsoft Graph tenant is configured (ARCHITECTURE: Running without a tenant).

* Emails are RFC 5322 ``.eml`` files; invitations are RFC 5545 ``.ics`` files (``METHOD:REQUEST``, or
  ``METHOD:CANCEL``), with a stable ``UID`` made from the booking's transactionId, the organiser, the
  attendees and the room, in Europe/London time with its ``VTIMEZONE``. Both go under ``var/outbox/``.
* :class:`LocalCalendar` implements the calendar port from the bot's own bookings and the working
  hours only, and says so: it cannot see anyone's Outlook calendar.
* :class:`FileMailer` implements the mail port by writing ``.eml`` files.

Writes are atomic (temporary file then rename) and named by an idempotency key, so a retry never
doubles a file. This is also where a notice goes when Teams cannot deliver it, so that nothing is dropped.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from casework.clock import LONDON
from casework.ports_graph import (
    BookingStore,
    EventDraft,
    EventState,
    OutgoingEmail,
    Schedule,
    busy_from_bookings,
)

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
PRODID = "-//conference-challenge-bot//panel booking//EN"
UID_DOMAIN = "conference-challenge-bot"
LOCAL_LIMITATION = (
    "No Microsoft Graph tenant is configured: availability comes from the working hours and the bot's own "
    "bookings only, not from anyone's Outlook calendar; check the slot with the members before relying on it. "
    "Invitations are written as .ics files under var/outbox/."
)


def _safe(key: str) -> str:
    return _SAFE.sub("_", key)[:120]


def uid_for(transaction_id: str) -> str:
    """The invitation's stable UID: every update and the cancellation of one booking share it."""
    return f"{transaction_id}@{UID_DOMAIN}"


def _atomic_write(directory: Path, path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def london_vtimezone() -> object:
    """A compact VTIMEZONE for Europe/London (the rules in force since 1996), as Outlook writes it."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    tz = Timezone()
    tz.add("tzid", "Europe/London")
    summer = TimezoneDaylight()
    summer.add("tzname", "BST")
    summer.add("dtstart", datetime(1981, 3, 29, 1, 0))
    summer.add("tzoffsetfrom", LONDON.utcoffset(datetime(2000, 1, 1)))
    summer.add("tzoffsetto", LONDON.utcoffset(datetime(2000, 7, 1)))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    winter = TimezoneStandard()
    winter.add("tzname", "GMT")
    winter.add("dtstart", datetime(1996, 10, 27, 2, 0))
    winter.add("tzoffsetfrom", LONDON.utcoffset(datetime(2000, 7, 1)))
    winter.add("tzoffsetto", LONDON.utcoffset(datetime(2000, 1, 1)))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    tz.add_component(summer)
    tz.add_component(winter)
    return tz


def invitation_ics(
    draft: EventDraft, organiser: str, method: str = "REQUEST", comment: str = "", stamp: datetime | None = None
) -> bytes:
    """An RFC 5545 invitation (or cancellation) for one booking, times in Europe/London."""
    from icalendar import Calendar, Event, vCalAddress, vText

    from graph.templates import event_body_text

    if method not in ("REQUEST", "CANCEL"):
        raise ValueError("method must be REQUEST or CANCEL")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add_component(london_vtimezone())  # type: ignore[arg-type]
    ev = Event()
    ev.add("uid", uid_for(draft.transaction_id))
    ev.add("sequence", draft.sequence)
    ev.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    london = ZoneInfo("Europe/London")
    ev.add("dtstart", draft.start.astimezone(london))
    ev.add("dtend", draft.end.astimezone(london))
    ev.add("summary", draft.subject)
    description = event_body_text(draft)
    if comment:
        description = f"{comment}\n\n{description}"
    ev.add("description", description)
    ev.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    org = vCalAddress(f"mailto:{organiser}")
    org.params["cn"] = vText("Complaints panel organiser")
    ev.add("organizer", org)
    room = draft.room
    if room is not None:
        ev.add("location", room.email)
    for inv in draft.invitees:
        a = vCalAddress(f"mailto:{inv.email}")
        if inv.kind == "resource":
            a.params["cutype"] = vText("ROOM")
            a.params["role"] = vText("NON-PARTICIPANT")
        else:
            a.params["cutype"] = vText("INDIVIDUAL")
            a.params["role"] = vText("OPT-PARTICIPANT" if inv.kind == "optional" else "REQ-PARTICIPANT")
        a.params["partstat"] = vText("NEEDS-ACTION")
        a.params["rsvp"] = vText("TRUE")
        ev.add("attendee", a, encode=False)
    cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data


class FileOutbox:
    def __init__(self, directory: str | Path, sender: str = "conference-challenge-bot@localhost") -> None:
        self.directory = Path(directory)
        self.sender = sender

    def send_email(self, to: str, subject: str, text: str, html_body: str | None, key: str) -> Path:
        """Write one message; the same ``key`` twice writes it once."""
        return self.write_email(OutgoingEmail((to,), subject, text, html_body, key))

    def write_email(self, email: OutgoingEmail) -> Path:
        """Write one RFC 5322 message (plain text, and HTML as an alternative); idempotent by key."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{_safe(email.key)}.eml"
        if path.exists():
            return path
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(email.to)
        msg["Subject"] = email.subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(domain="conference-challenge-bot.local")
        msg["X-Idempotency-Key"] = email.key
        msg.set_content(email.text)
        if email.html is not None:
            msg.add_alternative(email.html, subtype="html")
        _atomic_write(self.directory, path, bytes(msg))
        return path

    def write_invitation(self, draft: EventDraft, organiser: str, method: str = "REQUEST", comment: str = "") -> Path:
        """Write one ``.ics``; the same booking, sequence and method twice writes it once."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{_safe(draft.transaction_id)}-{draft.sequence:03d}-{method.lower()}.ics"
        path = self.directory / name
        if path.exists():
            return path
        _atomic_write(self.directory, path, invitation_ics(draft, organiser, method, comment))
        return path


class FileMailer:
    """The mail port without a tenant: each message becomes an ``.eml`` file."""

    def __init__(self, outbox: FileOutbox) -> None:
        self.outbox = outbox

    async def send(self, email: OutgoingEmail) -> str:
        return str(self.outbox.write_email(email))


class LocalCalendar:
    """The calendar port without a tenant: the bot's own bookings, working hours, and ``.ics`` files."""

    def __init__(self, bookings: BookingStore, outbox: FileOutbox, organiser: str) -> None:
        self.bookings = bookings
        self.outbox = outbox
        self.organiser = organiser

    @property
    def limitation(self) -> str | None:
        return LOCAL_LIMITATION

    async def get_schedules(self, addresses: Sequence[str], start: datetime, end: datetime) -> list[Schedule]:
        busy = busy_from_bookings(self.bookings.bookings_between(start, end), addresses)
        return [Schedule(a, tuple(b for b in busy[a] if b.start < end and b.end > start)) for a in addresses]

    async def create_event(self, draft: EventDraft) -> EventState:
        self.outbox.write_invitation(draft, self.organiser, "REQUEST")
        return EventState(f"local:{draft.transaction_id}", draft.transaction_id, draft.start, draft.end, None, {})

    async def update_event(self, event_id: str, draft: EventDraft) -> EventState:
        self.outbox.write_invitation(draft, self.organiser, "REQUEST")
        return EventState(event_id, draft.transaction_id, draft.start, draft.end, None, {})

    async def cancel_event(self, event_id: str, draft: EventDraft, comment: str) -> None:
        self.outbox.write_invitation(draft, self.organiser, "CANCEL", comment)

    async def get_event(self, event_id: str) -> EventState | None:
        tid = event_id.removeprefix("local:")
        b = self.bookings.get_booking(tid)
        if b is None:
            return None
        # Nobody answers a file: the responses stay as stored.
        return EventState(
            event_id,
            tid,
            b.start,
            b.end,
            None,
            {i.email.lower(): i.response for i in b.invitees},
            b.state == "cancelled",
        )
