"""What happened on a case: dissents, complaints and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from casework.records import (
    COMPLAINANT_ROLES,
    CaseEvent,
    Complaint,
    Dissent,
)
from store import statements
from store.base import Repository
from store.errors import AlreadyExists, NotFound
from store.models import (
    CaseEventRow,
    ComplaintRow,
    DissentRow,
)
from store.open_cases import reopen_statement
from store.rows import (
    _aware,
    _check,
    _complaint,
    _dissent,
    _event,
)


def _dissent_case(dissent_id: int) -> Any:
    return select(DissentRow.reference).where(DissentRow.id == dissent_id).scalar_subquery()


class CaseRecordRepository(Repository):
    """Dissents, complaints and case events. Every change also marks its case open again
    (store.open_cases), in the same transaction, for casework to judge afresh."""

    def add_dissent(self, dissent: Dissent) -> Dissent:
        """Store a new dissent and return it with the id the database gave it."""
        if dissent.id is not None:
            raise AlreadyExists("dissent", dissent.id, "add_dissent stores new dissents only")
        row = DissentRow(
            reference=dissent.reference,
            person_id=dissent.person_id,
            agency=dissent.agency,
            reason=dissent.reason,
            raised_at=_aware(dissent.raised_at, "raised_at"),
            late=dissent.late,
            state=dissent.state,
        )
        with self._write() as s:
            s.add(row)
            s.flush()
            s.execute(reopen_statement(dissent.reference))
            return _dissent(row)

    def dissents_for(self, reference: str) -> list[Dissent]:
        with self._core_read() as s:
            return [_dissent(r) for r in s.execute(statements.DISSENTS, {"reference": reference})]

    def get_dissent(self, dissent_id: int) -> Dissent | None:
        with self._read() as s:
            row = s.get(DissentRow, dissent_id)
            return None if row is None else _dissent(row)

    def transition_dissent(
        self, dissent_id: int, expected: tuple[str, ...], state: str, decided_at: datetime | None = None
    ) -> bool:
        """Compare-and-set: move to ``state`` only from one of ``expected``; False if it had moved.

        One UPDATE ... WHERE state IN (...), so two clicks racing on two instances cannot both win.
        ``decided_at`` is kept when given (a decision, a decline, a withdrawal).
        """
        values: dict[str, Any] = {"state": state}
        if decided_at is not None:
            values["decided_at"] = _aware(decided_at, "decided_at")
        with self._write() as s:
            result = s.execute(
                update(DissentRow).where(DissentRow.id == dissent_id, DissentRow.state.in_(expected)).values(**values)
            )
            moved = bool(getattr(result, "rowcount", 0))
            if moved:
                s.execute(reopen_statement(_dissent_case(dissent_id)))
            return moved

    def amend_dissent(self, dissent_id: int, reason: str) -> bool:
        """A new reason, only while the dissent is still ``raised`` (the chair has not recorded it)."""
        with self._write() as s:
            result = s.execute(
                update(DissentRow)
                .where(DissentRow.id == dissent_id, DissentRow.state == "raised")
                .values(reason=reason)
            )
            amended = bool(getattr(result, "rowcount", 0))
            if amended:
                s.execute(reopen_statement(_dissent_case(dissent_id)))
            return amended

    def set_dissent_state(self, dissent_id: int, state: str) -> None:
        with self._write() as s:
            row = s.get(DissentRow, dissent_id)
            if row is None:
                raise NotFound("dissent", dissent_id)
            row.state = state
            s.execute(reopen_statement(row.reference))

    def add_complaint(self, complaint: Complaint) -> Complaint:
        """Store a new complaint; the complainant is a role (parent, child...), never a name."""
        if complaint.id is not None:
            raise AlreadyExists("complaint", complaint.id, "add_complaint stores new complaints only")
        _check("complainant role", complaint.complainant_role, COMPLAINANT_ROLES)
        row = ComplaintRow(
            reference=complaint.reference,
            area=complaint.area,
            received_at=_aware(complaint.received_at, "received_at"),
            complainant_role=complaint.complainant_role,
            grounds=complaint.grounds,
            summary=complaint.summary,
            stage=complaint.stage,
            received_time_given=complaint.time_given,
            repeat=complaint.repeat,
        )
        with self._write() as s:
            s.add(row)
            s.flush()
            s.execute(reopen_statement(complaint.reference))
            return _complaint(row)

    def complaints_for(self, reference: str) -> list[Complaint]:
        with self._core_read() as s:
            return [_complaint(r) for r in s.execute(statements.COMPLAINTS, {"reference": reference})]

    def set_complaint_stage(self, complaint_id: int, stage: str) -> None:
        with self._write() as s:
            row = s.get(ComplaintRow, complaint_id)
            if row is None:
                raise NotFound("complaint", complaint_id)
            row.stage = stage
            s.execute(reopen_statement(row.reference))

    # -- events ----------------------------------------------------------------------------------

    def record_event(self, event: CaseEvent) -> CaseEvent:
        row = CaseEventRow(
            reference=event.reference,
            name=event.name,
            at=_aware(event.at, "event time"),
            recorded_by=event.recorded_by,
        )
        with self._write() as s:
            s.add(row)
            s.flush()
            s.execute(reopen_statement(event.reference))
            return _event(row)

    def all_events_for(self, reference: str) -> list[CaseEvent]:
        """Every event of a case, withdrawn ones included, in time order."""
        with self._core_read() as s:
            return [_event(r) for r in s.execute(statements.ALL_EVENTS, {"reference": reference})]

    def withdraw_event(self, event_id: int, by: str, at: datetime) -> bool:
        """A correction: the event no longer counts (timelines leave it out); the row and its audit stay."""
        with self._write() as s:
            result = s.execute(
                update(CaseEventRow)
                .where(CaseEventRow.id == event_id, CaseEventRow.withdrawn_at.is_(None))
                .values(withdrawn_at=_aware(at, "withdrawn at"), withdrawn_by=by)
            )
            withdrawn = bool(getattr(result, "rowcount", 0))
            if withdrawn:
                case = select(CaseEventRow.reference).where(CaseEventRow.id == event_id).scalar_subquery()
                s.execute(reopen_statement(case))
            return withdrawn

    def events_for(self, reference: str) -> list[CaseEvent]:
        """A case's events in time order (recording order breaks ties)."""
        with self._core_read() as s:
            return [_event(r) for r in s.execute(statements.EVENTS, {"reference": reference})]

    def get_complaint(self, complaint_id: int) -> Complaint | None:
        with self._read() as s:
            row = s.get(ComplaintRow, complaint_id)
            return None if row is None else _complaint(row)
