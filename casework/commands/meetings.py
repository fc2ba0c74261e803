"""Teams meetings: linking a chat to a conference, and its start and end (001 5.7.4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from casework.clock import to_local_iso
from casework.commands.base import CaseworkBase
from casework.errors import (
    InvalidInput,
)
from casework.permissions import (
    require_chair,
)
from casework.records import (
    Notice,
)
from casework.results import Changed


class MeetingCommands(CaseworkBase):
    """Meeting chat links and meeting start and end events."""

    def link_chat(self, actor: str, reference: str, chat_id: str) -> Changed:
        """``conference link`` in a meeting chat: dissent typed there needs no reference, and the
        meeting's end sets the conference end, which starts the 72-hour clock (001 5.7.4)."""
        if not chat_id:
            raise InvalidInput("conference link works only in a meeting chat")
        with self.store.unit_of_work() as uow:
            conference = self.conference(reference)
            require_chair(actor, conference, self.roles(actor, conference.area))
            if conference.meeting_chat_id == chat_id:
                return Changed(
                    conference.reference, f"This chat is now linked to conference {conference.reference}", repeated=True
                )
            other = self.store.conference_for_chat(chat_id)
            if other is not None and other.reference != conference.reference:
                raise InvalidInput(f"this chat is already linked to {other.reference}")
            self.store.update_conference(replace(conference, meeting_chat_id=chat_id))
            self.store.append_audit(actor, "conference.linked", conference.reference, {})
            self.replan_reminders(conference.reference)
            uow.commit()
        return Changed(conference.reference, f"This chat is now linked to conference {conference.reference}")

    def unlink_chat(self, actor: str, reference: str, chat_id: str) -> Changed:
        """``conference unlink``: the chair undoes a link made in this chat (a wrong conference, or a
        chat reused for another meeting); dissent typed here needs its reference again. Audited."""
        if not chat_id:
            raise InvalidInput("conference unlink works only in the chat that was linked")
        with self.store.unit_of_work() as uow:
            conference = self.conference(reference)
            require_chair(actor, conference, self.roles(actor, conference.area))
            if conference.meeting_chat_id != chat_id:
                raise InvalidInput(f"this chat is not linked to {conference.reference}")
            self.store.update_conference(replace(conference, meeting_chat_id=None))
            self.store.append_audit(actor, "conference.unlinked", conference.reference, {})
            uow.commit()
        return Changed(conference.reference, f"This chat is no longer linked to conference {conference.reference}")

    def meeting_event(self, chat_id: str | None, started: bool, at: datetime) -> Changed | None:
        """Teams meeting start/end in a linked chat sets the conference's held/ended time once.

        An event with no conversation id, or one no conference is linked to, changes nothing.
        """
        if not chat_id:
            return None
        with self.store.unit_of_work() as uow:
            changed = self._meeting_event(chat_id, started, at)
            uow.commit()
        return changed

    def _meeting_event(self, chat_id: str, started: bool, at: datetime) -> Changed | None:
        conference = self.store.conference_for_chat(chat_id)
        if conference is None:
            return None
        ref = conference.reference
        if started:
            if conference.held_at is not None:
                return None
            self.store.update_conference(replace(conference, held_at=at))
            self._record(ref, "conference_held", at, "teams")
            self.store.append_audit("teams", "conference.started", ref, {"at": to_local_iso(at)})
            self.replan_reminders(ref)
            return Changed(ref, "Conference started")
        if conference.ended_at is not None:
            return None
        held = conference.held_at or at
        self.store.update_conference(replace(conference, held_at=held, ended_at=at))
        if conference.held_at is None:
            self._record(ref, "conference_held", held, "teams")
        self._record(ref, "conference_ended", at, "teams")
        self.store.append_audit("teams", "conference.ended", ref, {"at": to_local_iso(at)})
        notices = tuple(Notice("window_open", a.person_id, ref, occasion="ended") for a in conference.attendees)
        self._notify(notices)
        # The attendees are told now, by these notices: their "window opened" reminders are not sent again.
        window = self._window_rule(self.area_of(conference)) if conference.area in self.areas else None
        told = frozenset((window, "opened", n.person_id) for n in notices) if window else frozenset()
        self.replan_reminders(ref, told)
        return Changed(ref, "Conference ended: the dissent window is open", notices)
