"""The registry: people, their roles, and conferences, as administration commands (``cpc people add``,
``cpc conference add``, ``cpc demo``).

Each runs in one unit of work (ARCHITECTURE: Writing): the person and their role grants, or the
conference with its attendees, its dated events and its reminder plan, commit with their audit entry
or not at all. The edge that calls these (the command line, run by whoever administers the database)
names the actor recorded in the audit entry; there is no role check here, as there is no one to
check before the first administrator is registered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from casework.clock import to_local_iso
from casework.commands.base import CaseworkBase
from casework.errors import AlreadyDone, InvalidInput, UnknownArea
from casework.records import CONFERENCE_TYPES, ROLES, CaseEvent, Conference, Person, RoleGrant
from casework.results import Changed

EVERY_AREA = "*"

# The conference's own dated fields, as the events its timelines start from (ARCHITECTURE: Domain vocabulary).
_DATED = (("conference_scheduled", "scheduled_at"), ("conference_held", "held_at"), ("conference_ended", "ended_at"))


class RegistryCommands(CaseworkBase):
    """Registering people (with roles per area) and conferences."""

    def _check_area(self, area: str) -> None:
        if area != EVERY_AREA and area not in self.areas:
            raise UnknownArea(area, list(self.areas))

    def register_person(self, actor: str, person: Person, roles: Sequence[tuple[str, str]] = ()) -> Changed:
        """Add or update a professional and grant ``roles``, (role, area) pairs (area ``*``: every area).

        Granting a role held already changes nothing; the audit entry names the roles granted.
        """
        email = person.email.strip().lower()
        if "@" not in email or any(c.isspace() for c in email):
            raise InvalidInput(f"{person.email!r}: expected an email address")
        if not person.id.strip():
            raise InvalidInput("a person needs an id (their Entra object id)")
        grants: list[RoleGrant] = []
        for role, area in roles:
            if role not in ROLES:
                raise InvalidInput(f"role {role!r}: role must be one of {', '.join(ROLES)}")
            self._check_area(area or EVERY_AREA)
            grants.append(RoleGrant(person.id, role, area or EVERY_AREA))
        with self.store.unit_of_work() as uow:
            saved = self.store.upsert_person(replace(person, email=email))
            for g in grants:
                self.store.grant_role(g)
            self.store.append_audit(
                actor, "person.upserted", "-", {"person": saved.id, "roles": [f"{g.role}@{g.area}" for g in grants]}
            )
            uow.commit()
        return Changed("-", f"person {saved.id} saved")

    def register_conference(
        self, actor: str, conference: Conference, detail: Mapping[str, Any] | None = None
    ) -> Changed:
        """Add a conference: its record, an event for each of its dates (scheduled, held, ended), its
        reminder plan and an audit entry (with ``detail`` added), together. Its reference must be of
        the form of its area's (``[area] reference_pattern``, or ``CPC_REFERENCE_PATTERN``)."""
        area = self.areas.get(conference.area)
        if area is None:
            raise UnknownArea(conference.area, list(self.areas))
        # Of the form of this area's references (BadReference, showing it, otherwise): never a name.
        ref = area.reference(conference.reference)
        conference = replace(conference, reference=ref)
        if conference.type not in CONFERENCE_TYPES:
            raise InvalidInput(f"conference type {conference.type!r}: expected one of {', '.join(CONFERENCE_TYPES)}")
        held, ended = conference.held_at, conference.ended_at
        if ended is not None and held is None:
            raise InvalidInput("a conference cannot end before it is held: give when it was held as well")
        if ended is not None and held is not None and ended < held:
            raise InvalidInput("the end is before the start: the conference cannot end before it starts")
        with self.store.unit_of_work() as uow:
            if self.store.get_conference(ref) is not None:
                raise AlreadyDone(f"conference {ref} already exists")
            if conference.meeting_chat_id and (linked := self.store.conference_for_chat(conference.meeting_chat_id)):
                raise InvalidInput(f"that meeting chat is already linked to {linked.reference}")
            self.store.add_conference(conference)
            dated: dict[str, str] = {}
            for name, attr in _DATED:
                at = getattr(conference, attr)
                if at is not None:
                    self.store.record_event(CaseEvent(ref, name, at, actor))
                    dated[name] = to_local_iso(at)
            entry = {"area": conference.area, "type": conference.type, **dated, **(detail or {})}
            self.store.append_audit(actor, "conference.added", ref, entry)
            self.replan_reminders(ref)
            uow.commit()
        return Changed(ref, f"conference {ref} added to {conference.area}")
