"""Booking Stage 2 meetings and inter-agency panels (ARCHITECTURE: Flow 3), behind the calendar ports.

:class:`Booker` is the service the entry points call (``cpc panel propose|slots|book``, the bot's
cards, the scheduler's response polling). It checks roles and the panel's composition, works out
the window from the statutory timeline (:func:`booking_window`), reads availability through the
:class:`~casework.ports_graph.Calendar` port, and books with a deterministic ``transactionId``
(:func:`transaction_id`) stored *before* the create is sent, so a retried or resumed create never
makes a second event. Every change writes an audit entry (ids only, never names).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from casework.clock import LONDON, end_of_day, spoken, to_local_iso
from casework.errors import AlreadyDone, InvalidInput, NotEntitled, UnknownArea, UnknownConference, UnknownPerson
from casework.events import Event
from casework.packs import Area
from casework.panel import PanelCheck, PanelMember, check_panel, involvement, panel_rules
from casework.periods import parse_period
from casework.ports import CaseStore
from casework.ports_graph import (
    BookedInvitee,
    Booking,
    BookingStore,
    Calendar,
    EventDraft,
    Invitee,
)
from casework.records import CaseFile, Person
from casework.slots import (
    Busy,
    Slot,
    SlotSearch,
    WorkingHours,
    blocks,
    describe_time,
    find_slots,
    latest_meeting_end,
)
from casework.timeline import Deadline, evaluate

BOOKING_ROLES = frozenset({"complaints_manager", "admin"})


@dataclass(frozen=True, slots=True)
class Purpose:
    id: str
    title: str
    completes: str  # the event that meets the statutory duty
    panel: bool  # checked against the area's [panel] rules, with the papers in the body


PURPOSES: Mapping[str, Purpose] = {
    "panel": Purpose("panel", "Inter-agency complaint panel", "panel_held", True),
    "stage2-meeting": Purpose("stage2-meeting", "Stage 2 complaint meeting", "stage2_meeting_held", False),
}


def purpose_of(name: str) -> Purpose:
    try:
        return PURPOSES[name]
    except KeyError:
        raise InvalidInput(f"unknown meeting {name!r}; choose one of: {', '.join(PURPOSES)}") from None


def transaction_id(reference: str, purpose: str, revision: int) -> str:
    """Graph's ``transactionId`` for one booking: the same case, purpose and revision give the same id.

    A sha256 of ``reference|purpose|revision`` shaped as a UUID (8-4-4-4-12 hex digits).
    """
    h = hashlib.sha256(f"{reference}|{purpose}|{revision}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


@dataclass(frozen=True)
class BookingWindow:
    """Until when the meeting may be held: the statutory date, less the letter's time where the pack keeps it."""

    deadline: Deadline | None
    due: datetime | None
    latest_end: datetime | None
    explanation: str


def statutory_deadline(area: Area, events: Iterable[Event], now: datetime, purpose: str) -> Deadline | None:
    """The complaint-process duty the meeting meets (e.g. ``panel-convened``), the soonest dated one."""
    p = purpose_of(purpose)
    if "complaint" not in area.processes:
        return None
    timeline = evaluate(area, "complaint", list(events), now)
    candidates = [d for d in timeline.deadlines if p.completes in d.rule.completed_by]
    if not candidates:
        return None
    dated = [d for d in candidates if d.due is not None]
    return min(dated, key=lambda d: d.due or now) if dated else candidates[0]


def booking_window(
    area: Area,
    events: Iterable[Event],
    now: datetime,
    purpose: str,
    by: datetime | None = None,
    reserve_letter: bool = True,
) -> BookingWindow:
    """The latest end for the meeting; ``by`` (a date the manager gives) replaces an undated duty."""
    p = purpose_of(purpose)
    deadline = statutory_deadline(area, events, now, purpose)
    due = deadline.due if deadline is not None else None
    parts: list[str] = []
    if due is not None and deadline is not None:
        parts.append(f"{deadline.rule.id} ({deadline.rule.title}) is due {to_local_iso(due)} [{deadline.rule.source}]")
    elif deadline is not None:
        parts.append(
            f"{deadline.rule.id} has no date yet ({deadline.status}: "
            f"{' or '.join(deadline.rule.starts) or 'no number of days is set'})"
        )
    if by is not None:
        due = by if due is None else min(due, by)
        parts.append(f"the date given is {to_local_iso(by)}")
    if due is None:
        return BookingWindow(deadline, None, None, "; ".join(parts) or f"no statutory date applies to the {p.title}")
    letter = area.panel.letter_time if (p.panel and area.panel is not None and reserve_letter) else None
    latest, why = latest_meeting_end(due, area.calendar, parse_period(letter) if letter else None)
    parts.append(f"latest end {why}")
    return BookingWindow(deadline, due, latest, "; ".join(parts))


@dataclass(frozen=True)
class SlotOffer:
    reference: str
    purpose: str
    window: BookingWindow
    search: SlotSearch
    participants: tuple[str, ...]
    panel: PanelCheck | None
    limitation: str | None

    def text(self) -> str:
        p = purpose_of(self.purpose)
        lines = [f"{p.title} for {self.reference}: {self.window.explanation}."]
        if self.search.slots:
            lines.append(
                "Slots (everyone and the room free): " + "; ".join(s.describe() for s in self.search.slots) + "."
            )
        elif self.search.shortfall is not None:
            lines.append(self.search.shortfall.text())
        lines.extend(self.search.notes)
        if self.panel is not None:
            lines.append(
                f"Suggested chair: {self.panel.chair.person_id} ({self.panel.least_involved.replace('_', ' ')})."
            )
            lines.extend(self.panel.warnings)
        if self.limitation:
            lines.append(self.limitation)
        return "\n".join(lines)


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

    def text(self) -> str:
        p = purpose_of(self.purpose)
        who = "the room" if self.kind == "resource" else (self.person_id or "an invitee")
        when = describe_time(self.start)
        if self.reason == "lost":
            return f"The {p.title} for {self.reference} ({when}) was cancelled or deleted outside the bot: rebook it."
        return f"{who} declined the {p.title} for {self.reference} ({when}): replace them or rebook."


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

    def _members(self, member_ids: Sequence[str]) -> list[PanelMember]:
        out: list[PanelMember] = []
        for pid in member_ids:
            p = self.store.get_person(pid)
            if p is None:
                raise InvalidInput(f"{pid} is not registered; add them first (cpc people add)")
            out.append(PanelMember(p.id, p.agency, p.email))
        return out

    def _people(self, case: CaseFile) -> dict[str, Person]:
        ids = {case.conference.chair_id, *(a.person_id for a in case.conference.attendees)}
        ids |= {d.person_id for d in case.dissents}
        out: dict[str, Person] = {}
        for pid in ids:
            if pid is None:
                continue
            p = self.store.get_person(pid)
            if p is not None:
                out[pid] = p
        return out

    def _check(
        self,
        case: CaseFile,
        area: Area,
        purpose: str,
        members: Sequence[PanelMember],
        chair_id: str | None,
        declared: Iterable[str],
    ) -> PanelCheck | None:
        if not purpose_of(purpose).panel:
            return None
        inv = involvement(case, self._people(case), declared)
        return check_panel(panel_rules(area), members, inv, chair_id)

    @staticmethod
    def _events(case: CaseFile) -> list[Event]:
        return [Event(e.name, e.at) for e in case.events]

    def _draft(self, b: Booking, area: Area) -> EventDraft:
        p = purpose_of(b.purpose)
        rules = area.panel if p.panel else None
        return EventDraft(
            transaction_id=b.transaction_id,
            reference=b.reference,
            purpose=b.purpose,
            title=p.title,
            start=b.start,
            end=b.end,
            invitees=tuple(Invitee(i.email, i.kind, i.person_id) for i in b.invitees),
            papers=rules.papers if rules else (),
            papers_source=rules.papers_source if rules else "",
            chair_id=b.chair_id,
            online=True,
            sequence=b.sequence,
        )

    def _late(self, window: BookingWindow, end: datetime, delay_reason: str | None) -> None:
        if window.latest_end is not None and end > window.latest_end and not (delay_reason or "").strip():
            raise InvalidInput(
                f"the meeting would end after {spoken(window.latest_end)} ({window.explanation}); "
                "choose an earlier slot, swap a member, or record the reason for the delay"
            )

    def _warnings(self, join_url: str | None) -> tuple[str, ...]:
        if join_url:
            return ()
        if self.calendar.limitation:
            return (
                "No Teams link: the invitation was written as a file because no Microsoft Graph tenant is configured.",
            )
        return (
            "Graph returned no Teams join link: the organiser mailbox is probably not enabled for Teams meetings. "
            "Add a link to the invitation by hand, or ask the Teams administrator to enable the mailbox.",
        )

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
        return self._check(case, area, purpose, self._members(member_ids), chair_id, declared_line_managers)

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
        members = self._members(member_ids)
        check = self._check(case, area, purpose, members, chair_id, declared_line_managers)
        now = self.now()
        window = booking_window(area, self._events(case), now, purpose, by, reserve_letter)
        if window.latest_end is None:
            raise InvalidInput(f"{window.explanation}; give the date the meeting must be held by")
        until_day = area.calendar.add_working_days(
            window.latest_end.astimezone(LONDON).date(), self.lookahead_working_days
        )
        until = end_of_day(until_day)
        addresses = [m.email for m in members] + ([room] if room else [])
        schedules = await self.calendar.get_schedules(addresses, now, until)
        by_address = {s.address.lower(): s for s in schedules}
        busy: dict[str, list[Busy]] = {}
        unknown: list[str] = []
        for a in addresses:
            s = by_address.get(a.lower())
            if s is None or s.error is not None:
                unknown.append(a)
            else:
                busy[a] = list(s.busy)
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
        members = self._members(member_ids)
        check = self._check(case, area, purpose, members, chair_id, declared_line_managers)
        end = start + duration
        if duration <= timedelta(0):
            raise InvalidInput("the meeting's duration must be positive")
        if start < now:
            raise InvalidInput(f"{Slot(start, end).describe()} is in the past")
        window = booking_window(area, self._events(case), now, purpose, by)
        self._late(window, end, delay_reason)
        if existing is not None and existing.state == "pending":
            booking = existing
        else:
            invitees = [BookedInvitee(m.email, "required", m.person_id) for m in members]
            if room:
                invitees.append(BookedInvitee(room, "resource", None))
            if check_free:
                await self._refuse_if_busy([i.email for i in invitees], start, end)
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
        state = await self.calendar.create_event(self._draft(booking, area))
        booking = self.bookings.save_booking(
            replace(
                booking,
                state="booked",
                event_id=state.event_id,
                join_url=state.join_url,
                warnings=self._warnings(state.join_url),
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
                "delay_reason": booking.delay_reason,
            },
        )
        if (booking.start, booking.end) != (start, end):
            # A resumed pending booking keeps its stored values for the create; then move it.
            return await self.reschedule(actor, reference, purpose, start, duration, delay_reason=delay_reason)
        return booking

    async def _refuse_if_busy(self, addresses: Sequence[str], start: datetime, end: datetime) -> None:
        schedules = await self.calendar.get_schedules(addresses, start, end)
        clash = sorted(
            {s.address for s in schedules for b in s.busy if blocks(b.status) and b.start < end and b.end > start}
        )
        if clash:
            raise InvalidInput(
                f"no longer free at {Slot(start, end).describe()}: {', '.join(clash)}; look for slots again"
            )

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
        self._late(window, end, delay_reason)
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
        state = await self.calendar.update_event(b.event_id, self._draft(moved, area))
        moved = self.bookings.save_booking(
            replace(moved, join_url=state.join_url or b.join_url, warnings=self._warnings(state.join_url or b.join_url))
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
        members = self._members([pid for pid in ids if pid])
        chair = None if b.chair_id == leaving_id else b.chair_id
        check = self._check(case, area, purpose, members, chair, ())
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
        await self.calendar.update_event(b.event_id, self._draft(changed, area))
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
        await self.calendar.cancel_event(b.event_id, self._draft(cancelled, area), comment)
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
        now = self.now()
        prompts: list[DeclinePrompt] = []
        for b in self.bookings.open_bookings(now):
            if b.event_id is None:
                continue
            area = self.areas.get(self._area_of(b.reference) or "")
            notify = self._notify(b, area)
            state = await self.calendar.get_event(b.event_id)
            if state is None or state.cancelled:
                b = self.bookings.save_booking(replace(b, state="lost", checked_at=now, updated_at=now))
                self.store.append_audit(
                    "system", f"{b.purpose}_lost", b.reference, {"transaction_id": b.transaction_id}
                )
                prompts.append(
                    DeclinePrompt(b.reference, b.purpose, b.transaction_id, "", None, "event", b.start, notify, "lost")
                )
                continue
            invitees = []
            for i in b.invitees:
                response = state.responses.get(i.email.lower(), i.response)
                prompted = i.prompted if response == "declined" else False
                invitees.append(replace(i, response=response, prompted=prompted))
            b = self.bookings.save_booking(replace(b, invitees=tuple(invitees), checked_at=now))
            for i in b.invitees:
                if i.response == "declined" and not i.prompted:
                    prompts.append(
                        DeclinePrompt(
                            b.reference, b.purpose, b.transaction_id, i.email, i.person_id, i.kind, b.start, notify
                        )
                    )
        return prompts

    def acknowledge(self, prompt: DeclinePrompt) -> None:
        """The prompt was delivered: do not give it again (until the invitee answers differently)."""
        b = self.bookings.get_booking(prompt.transaction_id)
        if b is None or prompt.reason == "lost":
            return
        invitees = tuple(
            replace(i, prompted=True) if i.email.lower() == prompt.email.lower() and i.response == "declined" else i
            for i in b.invitees
        )
        self.bookings.save_booking(replace(b, invitees=invitees))
        self.store.append_audit(
            "system",
            f"{b.purpose}_decline_prompted",
            b.reference,
            {"transaction_id": b.transaction_id, "person": prompt.person_id, "kind": prompt.kind},
        )

    def _area_of(self, reference: str) -> str | None:
        conf = self.store.get_conference(reference)
        return conf.area if conf else None

    def _notify(self, b: Booking, area: Area | None) -> tuple[str, ...]:
        ids = [p.id for p in self.store.people_with_role("complaints_manager", area.id)] if area else []
        if b.booked_by not in ids and b.booked_by != "system":
            ids.append(b.booked_by)
        return tuple(dict.fromkeys(ids))
