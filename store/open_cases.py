"""The open work and the reads that follow it: which cases are open, whose they are, and cases in bulk.

Why: ``deadlines``, the replan and the digest used to walk every conference ever stored, a few
statements each. These reads use the indexes of migration 0011 and load many cases in a handful of
statements (``IN`` lists of at most :data:`CHUNK` references), so their cost follows the open work,
not the years of history around it. The flag itself is judged by casework (casework.openness): the
store only sets it again on every change to a case's record (:func:`reopen_statement`, run in the same transaction).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Update, false, or_, select, true, update

from casework.records import CaseFile, Person
from store.base import Repository
from store.models import (
    AttendeeRow,
    CaseEventRow,
    ComplaintRow,
    ConferenceRow,
    DissentRow,
    PersonRow,
    RoleGrantRow,
)
from store.rows import ALL_AREAS, _complaint, _conference, _dissent, _event, _person
from store.statements import among

# References per IN list: well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
CHUNK = 500

_conferences = ConferenceRow.__table__.c
_attendees = AttendeeRow.__table__.c
_events = CaseEventRow.__table__.c
_dissents = DissentRow.__table__.c
_complaints = ComplaintRow.__table__.c


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _same(row: Any) -> Any:
    return row


def _of(model: Any, refs: list[str], dialect: str, *also: Any) -> Select[Any]:
    """Every row of ``model``'s table belonging to these cases."""
    table = model.__table__
    return select(table).where(among(table.c.reference, refs, dialect), *also)


def reopen_statement(reference: Any) -> Update:
    """Mark a case open again (matching no row when it is open already). ``reference`` is a value or
    a scalar subquery (the case of a dissent, a complaint or an event known by id). Every write that
    changes a case's record runs it in its own transaction."""
    return (
        update(ConferenceRow)
        .where(ConferenceRow.reference == reference, ConferenceRow.is_open == false())
        .values(is_open=True)
    )


class OpenCaseRepository(Repository):
    """Open cases by person, by area and in bulk; the flag's writes."""

    def set_case_open(self, reference: str, is_open: bool) -> None:
        """Record casework's judgement (casework.openness), made just after reading the whole case."""
        with self._write() as s:
            # Matching no row when unchanged: a transaction that writes nothing costs PostgreSQL no flush.
            changed = ConferenceRow.is_open != is_open
            s.execute(
                update(ConferenceRow).where(ConferenceRow.reference == reference, changed).values(is_open=is_open)
            )

    def open_cases_of(self, person_id: str) -> list[str]:
        """Open cases the person chairs or attended, by reference (the chair and attendee indexes)."""
        attended = select(_attendees.reference).where(_attendees.person_id == person_id)
        query = (
            select(_conferences.reference)
            .where(
                _conferences.is_open == true(),
                or_(_conferences.chair_id == person_id, _conferences.reference.in_(attended)),
            )
            .order_by(_conferences.reference)
        )
        with self._core_read() as conn:
            return list(conn.execute(query).scalars())

    def closed_cases_of(self, person_id: str, since: datetime) -> list[str]:
        """Closed cases the person chairs or attended with an event since ``since``, by reference: the
        "recently closed" part of their ``cases`` overview (issue 14 item 4)."""
        attended = select(_attendees.reference).where(_attendees.person_id == person_id)
        recent = select(_events.reference).where(_events.at >= since)
        query = (
            select(_conferences.reference)
            .where(
                _conferences.is_open == false(),
                or_(_conferences.chair_id == person_id, _conferences.reference.in_(attended)),
                _conferences.reference.in_(recent),
            )
            .order_by(_conferences.reference)
        )
        with self._core_read() as conn:
            return list(conn.execute(query).scalars())

    def open_cases_in(self, areas: Sequence[str] | None = None) -> list[str]:
        """Open cases of these areas (every area for None), by reference (the open-state index)."""
        return self._references_in(areas, select(_conferences.reference).where(_conferences.is_open == true()))

    def cases_in(self, areas: Sequence[str] | None = None) -> list[str]:
        """Every case of these areas, open or closed, by reference: for applying changed rules to all."""
        return self._references_in(areas, select(_conferences.reference))

    def _references_in(self, areas: Sequence[str] | None, query: Select[Any]) -> list[str]:
        if areas is not None:
            if not areas:
                return []
            query = query.where(_conferences.area.in_(list(areas)))
        with self._core_read() as conn:
            return list(conn.execute(query.order_by(_conferences.reference)).scalars())

    def load_cases(self, references: Sequence[str]) -> list[CaseFile]:
        """Many cases at once, in the order given (unknown references left out): five statements per
        :data:`CHUNK` references, where ``load_case`` takes five per case."""
        found: dict[str, CaseFile] = {}
        with self._core_read() as conn:
            for part in _chunks(list(dict.fromkeys(references))):
                refs = list(part)

                def grouped(query: Select[Any], convert: Callable[[Any], Any] = _same) -> dict[str, list[Any]]:
                    out: dict[str, list[Any]] = defaultdict(list)
                    for row in conn.execute(query):
                        out[row.reference].append(convert(row))
                    return out

                attendees = grouped(
                    select(_attendees.reference, _attendees.person_id, _attendees.agency)
                    .where(among(_attendees.reference, refs, self._dialect))
                    .order_by(_attendees.id)
                )
                live = _events.withdrawn_at.is_(None)
                d = self._dialect
                events = grouped(_of(CaseEventRow, refs, d, live).order_by(_events.at, _events.id), _event)
                dissents = grouped(_of(DissentRow, refs, d).order_by(_dissents.raised_at, _dissents.id), _dissent)
                complaints = grouped(
                    _of(ComplaintRow, refs, d).order_by(_complaints.received_at, _complaints.id), _complaint
                )
                for row in conn.execute(_of(ConferenceRow, refs, d)):
                    r = row.reference
                    found[r] = CaseFile(
                        _conference(row, attendees[r]), tuple(events[r]), tuple(dissents[r]), tuple(complaints[r])
                    )
        return [found[r] for r in references if r in found]

    def roles_in_areas(self, person_id: str, areas: Iterable[str]) -> dict[str, set[str]]:
        """The roles the person holds in each of these areas (those granted for every area included),
        as ``roles_of`` gives them one area at a time: here one read for all the areas."""
        g = RoleGrantRow.__table__.c
        held: dict[str, set[str]] = defaultdict(set)
        with self._core_read() as conn:
            for row in conn.execute(select(g.area, g.role).where(g.person_id == person_id)):
                held[row.area].add(row.role)
        everywhere = held.get(ALL_AREAS, set())
        return {a: held.get(a, set()) | everywhere for a in areas}

    def people_by_ids(self, person_ids: Iterable[str]) -> dict[str, Person]:
        """The people among these ids who are registered, by id, in one read per :data:`CHUNK`."""
        ids = sorted(set(person_ids))
        p = PersonRow.__table__.c
        out: dict[str, Person] = {}
        with self._core_read() as conn:
            for part in _chunks(ids):
                chosen = select(PersonRow.__table__).where(among(p.id, part, self._dialect))
                out.update((r.id, _person(r)) for r in conn.execute(chosen))
        return out

    def role_holders(self, area: str) -> dict[str, list[Person]]:
        """Who holds each role in ``area`` (or in every area), ordered as ``people_with_role`` orders
        them: one read for the whole area, for runs that resolve many cases' recipients."""
        g = RoleGrantRow.__table__.c
        p = PersonRow.__table__.c
        query = (
            select(g.role, PersonRow.__table__)
            .join(PersonRow.__table__, p.id == g.person_id)
            .where(g.area.in_((area, ALL_AREAS)))
            .order_by(g.role, p.display_name, p.email, p.id)
        )
        out: dict[str, list[Person]] = defaultdict(list)
        with self._core_read() as conn:
            for row in conn.execute(query):
                person = _person(row)
                if all(q.id != person.id for q in out[row.role]):
                    out[row.role].append(person)
        return dict(out)

    def complaint_cases(self, area: str, closed_since: datetime, received_since: datetime) -> list[str]:
        """The digest's cases, oldest complaint first: those with a complaint still open, those closed
        since ``closed_since`` and those received since ``received_since`` (the on-time rates' year)."""
        open_or_recent = (
            select(_complaints.reference, _complaints.received_at, _complaints.id)
            .where(
                _complaints.area == area,
                or_(~_complaints.stage.startswith("closed"), _complaints.received_at >= received_since),
            )
            .order_by(_complaints.received_at, _complaints.id)
        )
        closed = select(_events.reference).where(
            _events.name == "closed", _events.at >= closed_since, _events.withdrawn_at.is_(None)
        )
        closed_here = (
            select(_complaints.reference, _complaints.received_at, _complaints.id)
            .where(_complaints.area == area, _complaints.reference.in_(closed))
            .order_by(_complaints.received_at, _complaints.id)
        )
        with self._core_read() as conn:
            rows = [*conn.execute(open_or_recent), *conn.execute(closed_here)]
        rows.sort(key=lambda r: (r.received_at, r.id))
        return list(dict.fromkeys(r.reference for r in rows))
