"""Answers to booked invitations: a decline or a lost event prompts a rebooking (ARCHITECTURE: Flow 3).

The scheduler's polling job reads each open booking's answers (:func:`poll_responses`), delivers
each prompt to the complaints managers (a card to replace the member or rebook) and then calls
:func:`acknowledge`; a prompt not acknowledged is given again at the next poll, so a crash between
the two loses nothing. Audit entries carry ids only, never names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from casework.meeting_times import describe_time
from casework.packs import Area
from casework.ports import CaseStore
from casework.ports_graph import Booking, BookingStore, Calendar
from casework.purposes import purpose_of
from casework.wording import named


@dataclass(frozen=True)
class DeclinePrompt:
    """Someone declined (or the event vanished): the complaints managers must replace them or rebook."""

    reference: str
    purpose: str
    transaction_id: str
    email: str
    person_id: str | None
    kind: str
    start: datetime
    notify: tuple[str, ...]
    reason: str = "declined"
    #: The invitee's display name, for the card and email: a person is named, not given by their id.
    name: str = ""

    def text(self) -> str:
        p = purpose_of(self.purpose)
        who = "the room" if self.kind == "resource" else named(self.name, fallback=self.email or "an invitee")
        when = describe_time(self.start)
        if self.reason == "lost":
            return f"The {p.title} for {self.reference} ({when}) was cancelled or deleted outside the bot: rebook it."
        return f"{who} declined the {p.title} for {self.reference} ({when}): replace them or rebook."


async def poll_responses(
    bookings: BookingStore, store: CaseStore, calendar: Calendar, areas: Mapping[str, Area], now: datetime
) -> list[DeclinePrompt]:
    """Read each open booking's answers; a decline (or a vanished event) gives a prompt until acknowledged."""
    prompts: list[DeclinePrompt] = []
    for b in bookings.open_bookings(now):
        if b.event_id is None:
            continue
        area = areas.get(_area_of(store, b.reference) or "")
        notify = _notify(store, b, area)
        state = await calendar.get_event(b.event_id)
        if state is None or state.cancelled:
            b = bookings.save_booking(replace(b, state="lost", checked_at=now, updated_at=now))
            store.append_audit("system", f"{b.purpose}_lost", b.reference, {"transaction_id": b.transaction_id})
            prompts.append(
                DeclinePrompt(b.reference, b.purpose, b.transaction_id, "", None, "event", b.start, notify, "lost")
            )
            continue
        invitees = []
        for i in b.invitees:
            response = state.responses.get(i.email.lower(), i.response)
            prompted = i.prompted if response == "declined" else False
            invitees.append(replace(i, response=response, prompted=prompted))
        b = bookings.save_booking(replace(b, invitees=tuple(invitees), checked_at=now))
        for i in b.invitees:
            if i.response == "declined" and not i.prompted:
                person = store.get_person(i.person_id) if i.person_id else None
                prompts.append(
                    DeclinePrompt(
                        b.reference,
                        b.purpose,
                        b.transaction_id,
                        i.email,
                        i.person_id,
                        i.kind,
                        b.start,
                        notify,
                        name=person.display_name if person else "",
                    )
                )
    return prompts


def acknowledge(bookings: BookingStore, store: CaseStore, prompt: DeclinePrompt) -> None:
    """The prompt was delivered: do not give it again (until the invitee answers differently)."""
    b = bookings.get_booking(prompt.transaction_id)
    if b is None or prompt.reason == "lost":
        return
    invitees = tuple(
        replace(i, prompted=True) if i.email.lower() == prompt.email.lower() and i.response == "declined" else i
        for i in b.invitees
    )
    bookings.save_booking(replace(b, invitees=invitees))
    store.append_audit(
        "system",
        f"{b.purpose}_decline_prompted",
        b.reference,
        {"transaction_id": b.transaction_id, "person": prompt.person_id, "kind": prompt.kind},
    )


def _area_of(store: CaseStore, reference: str) -> str | None:
    conf = store.get_conference(reference)
    return conf.area if conf else None


def _notify(store: CaseStore, b: Booking, area: Area | None) -> tuple[str, ...]:
    """The area's complaints managers, and whoever booked the meeting."""
    ids = [p.id for p in store.people_with_role("complaints_manager", area.id)] if area else []
    if b.booked_by not in ids and b.booked_by != "system":
        ids.append(b.booked_by)
    return tuple(dict.fromkeys(ids))
