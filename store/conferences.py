"""Conferences, their attendees and the whole-case read behind every card."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.records import (
    CONFERENCE_TYPES,
    Attendee,
    CaseFile,
    Conference,
)
from store import statements
from store.base import Repository
from store.errors import AlreadyExists, NotFound
from store.models import (
    AttendeeRow,
    ConferenceRow,
)
from store.open_cases import reopen_statement
from store.rows import (
    _aware_or_none,
    _check,
    _complaint,
    _conference,
    _dissent,
    _event,
)


class ConferenceRepository(Repository):
    """Conferences and attendees; ``load_case`` reads a case in one transaction."""

    def _conference_values(self, conference: Conference) -> dict[str, Any]:
        _check("conference type", conference.type, CONFERENCE_TYPES)
        return {
            "area": conference.area,
            "type": conference.type,
            "scheduled_at": _aware_or_none(conference.scheduled_at, "scheduled_at"),
            "held_at": _aware_or_none(conference.held_at, "held_at"),
            "ended_at": _aware_or_none(conference.ended_at, "ended_at"),
            "chair_id": conference.chair_id,
            "meeting_chat_id": conference.meeting_chat_id,
        }

    def _chat_taken(self, s: Session, conference: Conference) -> bool:
        if conference.meeting_chat_id is None:
            return False
        other = s.scalars(
            select(ConferenceRow.reference).where(
                ConferenceRow.meeting_chat_id == conference.meeting_chat_id,
                ConferenceRow.reference != conference.reference,
            )
        ).first()
        return other is not None

    def add_conference(self, conference: Conference) -> Conference:
        """Store a new conference with its attendees; its reference and meeting chat must be new."""
        values = self._conference_values(conference)
        try:
            with self._write() as s:
                if s.get(ConferenceRow, conference.reference) is not None:
                    raise AlreadyExists("conference", conference.reference, "use update_conference")
                if self._chat_taken(s, conference):
                    raise AlreadyExists("meeting chat", conference.meeting_chat_id, "it has a conference")
                row = ConferenceRow(reference=conference.reference, **values)
                seen: set[str] = set()
                for a in conference.attendees:
                    if a.person_id not in seen:
                        seen.add(a.person_id)
                        row.attendees.append(AttendeeRow(person_id=a.person_id, agency=a.agency))
                s.add(row)
        except IntegrityError as exc:  # a concurrent insert of the same reference or chat
            raise AlreadyExists("conference", conference.reference) from exc
        return self._require_conference(conference.reference)

    def _require_conference(self, reference: str) -> Conference:
        found = self.get_conference(reference)
        if found is None:
            raise NotFound("conference", reference)
        return found

    def get_conference(self, reference: str) -> Conference | None:
        key = {"reference": reference}
        with self._core_read() as s:
            row = s.execute(statements.CONFERENCE, key).first()
            return None if row is None else _conference(row, s.execute(statements.ATTENDEES, key).all())

    def load_case(self, reference: str) -> CaseFile | None:
        """The conference with its attendees, events, dissents and complaints, in one read transaction.

        Core selects of plain rows rather than ORM instances, with statements built once
        (``store.statements``): this is the read behind every ``status`` and every card.
        """
        with self._core_read() as conn:
            return _read_case(conn, reference)

    def load_case_for(self, reference: str, person_id: str) -> tuple[CaseFile, set[str]] | None:
        """The case and the roles ``person_id`` holds in its area, in the same read transaction:
        ``status`` needs both to put a button beside each step the viewer can take (issue 14 item 3)."""
        with self._core_read() as conn:
            case = _read_case(conn, reference)
            if case is None:
                return None
            key = {"person_id": person_id, "area": case.conference.area}
            return case, {r.role for r in conn.execute(statements.ROLES, key)}

    def update_conference(self, conference: Conference) -> Conference:
        """Replace a conference's details; attendees it lists are added, none is ever removed.

        Attendance is what gives a professional the right to dissent, so an update made from a
        copy that predates an ``add_attendee`` must not silently take that right away.
        """
        values = self._conference_values(conference)
        try:
            with self._write() as s:
                row = s.get(ConferenceRow, conference.reference)
                if row is None:
                    raise NotFound("conference", conference.reference)
                if self._chat_taken(s, conference):
                    raise AlreadyExists("meeting chat", conference.meeting_chat_id, "it has a conference")
                for key, value in values.items():
                    setattr(row, key, value)
                present = {a.person_id for a in row.attendees}
                for a in conference.attendees:
                    if a.person_id not in present:
                        present.add(a.person_id)
                        row.attendees.append(AttendeeRow(person_id=a.person_id, agency=a.agency))
                row.is_open = True  # its dates or attendance changed: casework judges it afresh
        except IntegrityError as exc:
            raise AlreadyExists("meeting chat", conference.meeting_chat_id) from exc
        return self._require_conference(conference.reference)

    def add_attendee(self, reference: str, attendee: Attendee) -> None:
        """Record attendance; recording the same person again keeps the first record."""
        stmt = (
            self._insert()(AttendeeRow)
            .values(reference=reference, person_id=attendee.person_id, agency=attendee.agency)
            .on_conflict_do_nothing(index_elements=[AttendeeRow.reference, AttendeeRow.person_id])
        )
        with self._write() as s:
            if s.get(ConferenceRow, reference) is None:
                raise NotFound("conference", reference)
            s.execute(stmt)
            s.execute(reopen_statement(reference))

    def remove_attendee(self, reference: str, person_id: str) -> bool:
        """Take one person off a conference's attendance list (the chair's correction of an error;
        casework refuses it once they have dissented). True when there was such a record."""
        with self._write() as s:
            if s.get(ConferenceRow, reference) is None:
                raise NotFound("conference", reference)
            gone = s.execute(
                delete(AttendeeRow).where(AttendeeRow.reference == reference, AttendeeRow.person_id == person_id)
            )
            s.execute(reopen_statement(reference))
        return bool(getattr(gone, "rowcount", 0))

    def conference_for_chat(self, meeting_chat_id: str | None) -> Conference | None:
        """The conference linked to a meeting chat; None for no chat id (never ``IS NULL``: that would
        match every conference without a linked chat)."""
        if not meeting_chat_id:
            return None
        with self._read() as s:
            row = s.scalars(select(ConferenceRow).where(ConferenceRow.meeting_chat_id == meeting_chat_id)).first()
            return None if row is None else _conference(row)

    def list_conferences(self, area: str | None = None) -> list[Conference]:
        """Every conference (of one area), by reference."""
        query = select(ConferenceRow).order_by(ConferenceRow.reference)
        if area is not None:
            query = query.where(ConferenceRow.area == area)
        with self._read() as s:
            return [_conference(r) for r in s.scalars(query)]

    def conferences_attended_by(self, person_id: str) -> list[Conference]:
        """Conferences listing the person as an attendee, by reference."""
        attended = select(AttendeeRow.reference).where(AttendeeRow.person_id == person_id)
        with self._read() as s:
            rows = s.scalars(
                select(ConferenceRow).where(ConferenceRow.reference.in_(attended)).order_by(ConferenceRow.reference)
            )
            return [_conference(r) for r in rows]


def _read_case(conn: Connection, reference: str) -> CaseFile | None:
    key = {"reference": reference}
    row = conn.execute(statements.CONFERENCE, key).first()
    if row is None:
        return None
    attendees = conn.execute(statements.ATTENDEES, key).all()
    events = conn.execute(statements.EVENTS, key).all()
    dissents = conn.execute(statements.DISSENTS, key).all()
    complaints = conn.execute(statements.COMPLAINTS, key).all()
    # The display names came with the rows (outer joins): cards name people at no extra read.
    named = [(row.chair_id, row.chair_name), *((a.person_id, a.name) for a in attendees)]
    named += [(x.recorded_by, x.by_name) for x in events] + [(x.person_id, x.name) for x in dissents]
    return CaseFile(
        _conference(row, attendees),
        tuple(_event(x) for x in events),
        tuple(_dissent(x) for x in dissents),
        tuple(_complaint(x) for x in complaints),
        names={pid: name for pid, name in named if pid and name},
    )
