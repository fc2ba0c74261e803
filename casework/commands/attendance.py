"""Setting a conference up from Teams: the chair adds or removes an attendee, and a chair sets up a
conference (``conference new``) from its meeting chat (issue 14 item 5).

Attendance is what gives a professional the right to dissent (001_554f9f91afccd8e1.txt 5.7.4: "any
professional attending the conference"), so who is on the list is part of the record: each change is
the chair's, audited, and planned for at once (the new attendee's own dissent window and reminders).
A removal is refused once the person has dissented: their attendance is then evidence of that right.
"""

from __future__ import annotations

from datetime import datetime

from casework.areas import AGENCY_TYPES
from casework.commands.registry import RegistryCommands
from casework.errors import AlreadyDone, InvalidInput, NotEntitled
from casework.permissions import is_attendee, require_chair
from casework.records import Attendee, Conference
from casework.results import Changed
from casework.wording import named

#: Who may set a conference up from Teams, in its area: its chairs, and administrators.
SET_UP_ROLES = frozenset({"chair", "admin"})


def agency_of(text: str) -> str:
    """The agency type a chair typed ("police", "Social care", "social-care"), or InvalidInput showing them."""
    agency = "_".join(text.strip().lower().replace("-", " ").split())
    if agency not in AGENCY_TYPES:
        words = ", ".join(a.replace("_", " ") for a in AGENCY_TYPES)
        raise InvalidInput(f"agency {text.strip()[:40]!r} is not one I know: use one of {words}")
    return agency


class AttendanceCommands(RegistryCommands):
    """Who attends, and new conferences, changed by their chair from Teams."""

    def conference_here(self, reference: str | None, chat_id: str | None, form: str) -> Conference:
        """The conference a command names, or else the one this chat is linked to."""
        if reference:
            return self.conference(reference)
        if chat_id and (linked := self.store.conference_for_chat(chat_id)) is not None:
            return linked
        raise InvalidInput(f"which conference? This chat is not linked to one. Type: {form}")

    def add_attendee(
        self, actor: str, reference: str | None, chat_id: str | None, person_id: str, agency: str
    ) -> Changed:
        """The chair adds a registered professional to the attendance list, with their agency."""
        agency = agency_of(agency)
        with self.store.unit_of_work() as uow:
            conference = self.conference_here(reference, chat_id, "attendee add CPC-123 @person police")
            require_chair(actor, conference, self.roles(actor, conference.area))
            ref = conference.reference
            person = self.store.get_person(person_id)
            if person is None:
                raise InvalidInput("that person is not registered with the bot yet; ask your administrator to add them")
            name = named(person.display_name, fallback="That person")
            if is_attendee(person_id, conference):
                return Changed(ref, f"{name} is already an attendee of {ref}", repeated=True)
            if person_id == conference.chair_id:
                raise InvalidInput(f"you chair {ref}: the chair is not added as an attendee")
            self.store.add_attendee(ref, Attendee(person_id, agency))
            self.store.append_audit(actor, "attendee.added", ref, {"person": person_id, "agency": agency})
            self.replan_reminders(ref)
            uow.commit()
        return Changed(ref, f"{name} ({agency.replace('_', ' ')}) is now an attendee of {ref}")

    def remove_attendee(self, actor: str, reference: str | None, chat_id: str | None, person_id: str) -> Changed:
        """The chair takes someone added in error off the list, while they have not dissented."""
        with self.store.unit_of_work() as uow:
            conference = self.conference_here(reference, chat_id, "attendee remove CPC-123 @person")
            require_chair(actor, conference, self.roles(actor, conference.area))
            ref = conference.reference
            if not is_attendee(person_id, conference):
                raise AlreadyDone(f"{self._name(person_id)} is not on the attendance list of {ref}")
            if any(d.person_id == person_id for d in self.store.dissents_for(ref)):
                raise InvalidInput(
                    f"{self._name(person_id)} has recorded dissent on {ref}, so their attendance is part of "
                    "the record and stays on it"
                )
            agency = next(a.agency for a in conference.attendees if a.person_id == person_id)
            self.store.remove_attendee(ref, person_id)
            self.store.append_audit(actor, "attendee.removed", ref, {"person": person_id, "agency": agency})
            self.replan_reminders(ref)
            uow.commit()
        return Changed(ref, f"{self._name(person_id)} is no longer an attendee of {ref}")

    def set_up_areas(self, actor: str) -> list[str]:
        """The areas ``actor`` may set a conference up in (``conference new``): those where they are
        a chair or an administrator, in the catalogue's order."""
        return [a for a in self.areas if self.roles(actor, a) & SET_UP_ROLES]

    def set_up_conference(
        self,
        actor: str,
        reference: str,
        area: str,
        kind: str,
        when: datetime,
        chat_id: str | None,
        now: datetime,
    ) -> Changed:
        """``conference new``: a chair of the area sets up a conference they chair. A time already
        past is when it was held; a time to come is when it is scheduled. From a meeting or group chat,
        the chat is linked, so dissent typed there needs no reference (001 5.7.4)."""
        if area not in self.areas:
            raise InvalidInput(f"area {area!r} is not one this bot serves: {', '.join(self.areas)}")
        if area not in self.set_up_areas(actor):
            raise NotEntitled(f"setting up a conference in {area} is for its chairs and administrators")
        held = when <= now
        conference = Conference(
            reference,
            area,
            kind,
            scheduled_at=None if held else when,
            held_at=when if held else None,
            chair_id=actor,
            meeting_chat_id=chat_id or None,
        )
        detail = {"set_up": "teams", "linked": bool(chat_id)}
        return self.register_conference(actor, conference, detail)

    def _name(self, person_id: str) -> str:
        person = self.store.get_person(person_id)
        return (person.display_name if person else "") or "That person"


__all__ = ["SET_UP_ROLES", "AttendanceCommands", "agency_of"]
