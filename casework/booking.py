"""Booking Stage 2 meetings and inter-agency panels (ARCHITECTURE: Flow 3), behind the calendar ports.

:class:`Booker` is the service the entry points call (``cpc panel propose|slots|book``, the bot's
cards, the scheduler's response polling). It checks roles and the panel's composition, works out
the window from the statutory timeline (:func:`booking_window`), reads availability through the
:class:`~casework.ports_graph.Calendar` port, and books with a deterministic ``transactionId``
(:func:`transaction_id`) stored *before* the create is sent, so a retried or resumed create never
makes a second event. Every change writes an audit entry (ids only, never names).

This module is the service and the one import path for its vocabulary; the parts live by
responsibility: the meetings in :mod:`casework.purposes`, the window in :mod:`casework.booking_window`,
reading calendars and the offer in :mod:`casework.availability`, the proposed panel in
:mod:`casework.panel_proposal`, the invitation in :mod:`casework.invitations`, and the answers to
it in :mod:`casework.invitation_responses`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from casework.availability import SlotOffer, read_availability, refuse_if_busy
from casework.booking_window import BookingWindow, booking_window, refuse_late_end, statutory_deadline
from casework.clock import LONDON, end_of_day, to_local_iso
from casework.errors import AlreadyDone, InvalidInput, NotEntitled, UnknownArea, UnknownConference, UnknownPerson
from casework.events import Event
from casework.free_text import text_hash
from casework.invitation_responses import DeclinePrompt, acknowledge, poll_responses
from casework.invitations import event_draft, link_warnings, transaction_id
from casework.packs import Area
from casework.panel import PanelCheck
from casework.panel_proposal import check_proposal, panel_members
from casework.ports import CaseStore
from casework.ports_graph import BookedInvitee, Booking, BookingStore, Calendar
from casework.purposes import PURPOSES, Purpose, purpose_of
from casework.records import CaseFile
from casework.slots import Slot, WorkingHours, find_slots

__all__ = [
    "BOOKING_ROLES",
    "PURPOSES",
    "Booker",
    "BookingWindow",
    "DeclinePrompt",
    "Purpose",
    "SlotOffer",
    "booking_window",
    "purpose_of",
    "statutory_deadline",
    "transaction_id",
]

BOOKING_ROLES = frozenset({"complaints_manager", "admin"})


@dataclass
class Booker:
    store: CaseStore
    bookings: BookingStore
    calendar: Calendar
    areas: Mapping[str, Area]
    now: Callable[[], datetime]
    hours: WorkingHours
    organiser: str
    step: timedelta = timedelta(minutes=30)
    lookahead_working_days: int = 20

    # ------------------------------------------------------------------ helpers

    def _case(self, reference: str) -> tuple[CaseFile, Area]:
        case = self.store.load_case(reference)
        if case is None:
            raise UnknownConference(reference)
        area = self.areas.get(case.conference.area)
        if area is None:
            raise UnknownArea(case.conference.area, list(self.areas))
        return case, area

    def _require(self, actor: str, area: Area) -> None:
        if self.store.get_person(actor) is None:
            raise UnknownPerson()
        if not self.store.roles_of(actor, area.id) & BOOKING_ROLES:
            raise NotEntitled("booking Stage 2 meetings and panels is for: complaints manager, admin")

    @staticmethod
    def _events(case: CaseFile) -> list[Event]:
        return [Event(e.name, e.at) for e in case.events]

    # ------------------------------------------------------------------ commands

    def propose(
        self,
        actor: str,
        reference: str,
        purpose: str,
        member_ids: Sequence[str],
        chair_id: str | None = None,
        declared_line_managers: Iterable[str] = (),
    ) -> PanelCheck | None:
        """Check a proposed panel (refused with each broken rule and its citation); suggest its chair."""
        case, area = self._case(reference)
        self._require(actor, area)
        members = panel_members(self.store, member_ids)
        return check_proposal(self.store, case, area, purpose, members, chair_id, declared_line_managers)

    async def find_slots(
        self,
        actor: str,
        reference: str,
        purpose: str,
        member_ids: Sequence[str],
        room: str | None,
        duration: timedelta,
        *,
        by: datetime | None = None,
        count: int = 3,
        reserve_letter: bool = True,
        chair_id: str | None = None,
        declared_line_managers: Iterable[str] = (),
    ) -> SlotOffer:
        case, area = self._case(reference)
        self._require(actor, area)
        members = panel_members(self.store, member_ids)
        check = check_proposal(self.store, case, area, purpose, members, chair_id, declared_line_managers)
        now = self.now()
        window = booking_window(area, self._events(case), now, purpose, by, reserve_letter)
        if window.latest_end is None:
            raise InvalidInput(f"{window.explanation}; give the date the meeting must be held by")
        until_day = area.calendar.add_working_days(
            window.latest_end.astimezone(LONDON).date(), self.lookahead_working_days
        )
        until = end_of_day(until_day)
        addresses = [m.email for m in members] + ([room] if room else [])
        busy, unknown = await read_availability(self.calendar, addresses, now, until)
        search = find_slots(
            busy,
            duration=duration,
            earliest=now,
            latest_end=window.latest_end,
            calendar=area.calendar,
            hours=self.hours,
            step=self.step,
            count=count,
            search_until=until,
            unknown=unknown,
        )
        return SlotOffer(reference, purpose, window, search, tuple(addresses), check, self.calendar.limitation)

    async def book(
        self,
        actor: str,
        reference: str,
        purpose: str,
        member_ids: Sequence[str],
        room: str | None,
        start: datetime,
        duration: timedelta,
        *,
        chair_id: str | None = None,
        delay_reason: str | None = None,
        declared_line_managers: Iterable[str] = (),
        by: datetime | None = None,
        check_free: bool = True,
    ) -> Booking:
        """Book the meeting. A booking left ``pending`` (the create failed or its answer was lost) is
        resumed with its stored transactionId and values, so Graph returns the event it already made."""
        case, area = self._case(reference)
        self._require(actor, area)
        now = self.now()
        existing = self.bookings.current_booking(reference, purpose)
        if existing is not None and existing.state == "booked":
            raise AlreadyDone(
                f"{reference} already has a {purpose_of(purpose).title} booked for "
                f"{Slot(existing.start, existing.end).describe()}; reschedule or cancel it"
            )
        members = panel_members(self.store, member_ids)
        check = check_proposal(self.store, case, area, purpose, members, chair_id, declared_line_managers)
        end = start + duration
        if duration <= timedelta(0):
            raise InvalidInput("the meeting's duration must be positive")
        if start < now:
            raise InvalidInput(f"{Slot(start, end).describe()} is in the past")
        window = booking_window(area, self._events(case), now, purpose, by)
        refuse_late_end(window, end, delay_reason)
        if existing is not None and existing.state == "pending":
            booking = existing
        else:
            invitees = [BookedInvitee(m.email, "required", m.person_id) for m in members]
            if room:
                invitees.append(BookedInvitee(room, "resource", None))
            if check_free:
                await refuse_if_busy(self.calendar, [i.email for i in invitees], start, end)
            revision = self.bookings.latest_revision(reference, purpose) + 1
            booking = self.bookings.start_booking(
                Booking(
                    reference=reference,
                    purpose=purpose,
                    revision=revision,
                    transaction_id=transaction_id(reference, purpose, revision),
                    state="pending",
                    organiser=self.organiser,
                    start=start,
                    end=end,
                    invitees=tuple(invitees),
                    booked_by=actor,
                    chair_id=check.chair.person_id if check else chair_id,
                    delay_reason=(delay_reason or "").strip() or None,
                    created_at=now,
                    updated_at=now,
                )
            )
        state = await self.calendar.create_event(event_draft(booking, area))
        booking = self.bookings.save_booking(
            replace(
                booking,
                state="booked",
                event_id=state.event_id,
                join_url=state.join_url,
                warnings=link_warnings(state.join_url, self.calendar.limitation),
                updated_at=self.now(),
            )
        )
        self.store.append_audit(
            actor,
            f"{purpose}_booked",
            reference,
            {
                "transaction_id": booking.transaction_id,
                "revision": booking.revision,
                "event_id": booking.event_id,
                "start": to_local_iso(booking.start),
                "end": to_local_iso(booking.end),
                "members": [i.person_id for i in booking.invitees if i.person_id],
                "room": booking.room.email if booking.room else None,
                "chair": booking.chair_id,
                "teams_link": booking.join_url is not None,
                **({"delay_reason_sha256": text_hash(booking.delay_reason)} if booking.delay_reason else {}),
            },
        )
        if (booking.start, booking.end) != (start, end):
            # A resumed pending booking keeps its stored values for the create; then move it.
            return await self.reschedule(actor, reference, purpose, start, duration, delay_reason=delay_reason)
        return booking

    def _booked(self, reference: str, purpose: str) -> tuple[Booking, Area]:
        _case, area = self._case(reference)
        b = self.bookings.current_booking(reference, purpose)
        if b is None or b.state != "booked" or b.event_id is None:
            raise InvalidInput(f"{reference} has no {purpose_of(purpose).title} booked")
        return b, area

    async def reschedule(
        self,
        actor: str,
        reference: str,
        purpose: str,
        start: datetime,
        duration: timedelta | None = None,
        *,
        delay_reason: str | None = None,
    ) -> Booking:
        case, area = self._case(reference)
        self._require(actor, area)
        b, _ = self._booked(reference, purpose)
        end = start + (duration if duration is not None else b.end - b.start)
        if start < self.now():
            raise InvalidInput(f"{Slot(start, end).describe()} is in the past")
        window = booking_window(area, self._events(case), self.now(), purpose)
        refuse_late_end(window, end, delay_reason)
        moved = replace(
            b,
            start=start,
            end=end,
            sequence=b.sequence + 1,
            invitees=tuple(replace(i, response="none", prompted=False) for i in b.invitees),
            delay_reason=(delay_reason or "").strip() or b.delay_reason,
            updated_at=self.now(),
        )
        assert b.event_id is not None
        state = await self.calendar.update_event(b.event_id, event_draft(moved, area))
        moved = self.bookings.save_booking(
            replace(
                moved,
                join_url=state.join_url or b.join_url,
                warnings=link_warnings(state.join_url or b.join_url, self.calendar.limitation),
            )
        )
        self.store.append_audit(
            actor,
            f"{purpose}_rescheduled",
            reference,
            {"transaction_id": b.transaction_id, "start": to_local_iso(start), "end": to_local_iso(end)},
        )
        return moved

    async def replace_member(
        self, actor: str, reference: str, purpose: str, leaving_id: str, joining_id: str
    ) -> Booking:
        """Swap one member (after a decline); the panel is checked again and the event updated."""
        case, area = self._case(reference)
        self._require(actor, area)
        b, _ = self._booked(reference, purpose)
        if not any(i.person_id == leaving_id for i in b.invitees):
            raise InvalidInput(f"{leaving_id} is not invited to the {purpose_of(purpose).title} for {reference}")
        ids = [joining_id if i.person_id == leaving_id else i.person_id for i in b.invitees if i.kind != "resource"]
        members = panel_members(self.store, [pid for pid in ids if pid])
        chair = None if b.chair_id == leaving_id else b.chair_id
        check = check_proposal(self.store, case, area, purpose, members, chair, ())
        joining = next(m for m in members if m.person_id == joining_id)
        invitees = tuple(
            BookedInvitee(joining.email, "required", joining.person_id) if i.person_id == leaving_id else i
            for i in b.invitees
        )
        changed = replace(
            b,
            invitees=invitees,
            sequence=b.sequence + 1,
            chair_id=check.chair.person_id if check else chair,
            updated_at=self.now(),
        )
        assert b.event_id is not None
        await self.calendar.update_event(b.event_id, event_draft(changed, area))
        changed = self.bookings.save_booking(changed)
        self.store.append_audit(
            actor,
            f"{purpose}_member_replaced",
            reference,
            {
                "transaction_id": b.transaction_id,
                "leaving": leaving_id,
                "joining": joining_id,
                "chair": changed.chair_id,
            },
        )
        return changed

    async def cancel(self, actor: str, reference: str, purpose: str, comment: str = "") -> Booking:
        _case, area = self._case(reference)
        self._require(actor, area)
        b, _ = self._booked(reference, purpose)
        assert b.event_id is not None
        cancelled = replace(b, state="cancelled", sequence=b.sequence + 1, updated_at=self.now())
        await self.calendar.cancel_event(b.event_id, event_draft(cancelled, area), comment)
        cancelled = self.bookings.save_booking(cancelled)
        self.store.append_audit(actor, f"{purpose}_cancelled", reference, {"transaction_id": b.transaction_id})
        return cancelled

    # ------------------------------------------------------------------ the polling job

    async def poll_responses(self) -> list[DeclinePrompt]:
        """Read each open booking's answers; a decline (or a vanished event) gives a prompt until acknowledged.

        The scheduler's job delivers each prompt to the complaints managers (a card to replace the
        member or rebook) and then calls :meth:`acknowledge`; a prompt not acknowledged is given again
        at the next poll, so a crash between the two loses nothing.
        """
        return await poll_responses(self.bookings, self.store, self.calendar, self.areas, self.now())

    def acknowledge(self, prompt: DeclinePrompt) -> None:
        """The prompt was delivered: do not give it again (until the invitee answers differently)."""
        acknowledge(self.bookings, self.store, prompt)
