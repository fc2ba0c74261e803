"""The reads behind every Teams turn, built once as Core statements with bound parameters.

Why: building ``select(...)`` anew on every call cost more than running it. Measured on the
benchmark's cases (SQLite, 2-core machine): ``load_case`` took about 580 µs with statements built
per call and about 180 µs with these, for the same rows; SQLite itself needs about 20 µs. The
statements are immutable, so SQLAlchemy's compiled cache serves them and only the parameters
change. Every name here is a read; writes keep their own statements in ``store/sql.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CompoundSelect, Connection, String, any_, bindparam, false, select, true, union_all
from sqlalchemy.dialects import postgresql

from casework.records import Contact
from store.models import (
    AttendeeRow,
    CaseEventRow,
    ComplaintRow,
    ConferenceRow,
    ConversationRefRow,
    DissentRow,
    PersonRow,
    RoleGrantRow,
)

#: Roles granted in every area carry this area name (``store.sql.ALL_AREAS``).
ALL_AREAS = "*"

_people = PersonRow.__table__
_grants = RoleGrantRow.__table__.c
_conferences = ConferenceRow.__table__
_attendees = AttendeeRow.__table__.c
_events = CaseEventRow.__table__
_dissents = DissentRow.__table__
_complaints = ComplaintRow.__table__
_refs = ConversationRefRow.__table__.c

#: :person_id -> the person's row
PERSON = select(_people).where(_people.c.id == bindparam("person_id"))

#: :person_id, :area -> the roles held in that area or in every area
ROLES = select(_grants.role).where(
    _grants.person_id == bindparam("person_id"), _grants.area.in_((bindparam("area"), ALL_AREAS))
)

#: :role, :area -> the people holding that role in that area or in every area, by name then email
PEOPLE_WITH_ROLE = (
    select(_people)
    .where(
        _people.c.id.in_(
            select(_grants.person_id).where(
                _grants.role == bindparam("role"), _grants.area.in_((bindparam("area"), ALL_AREAS))
            )
        )
    )
    .order_by(_people.c.display_name, _people.c.email, _people.c.id)
)

#: :reference -> the conference row, with its chair's display name (``chair_name``: cards name people)
CONFERENCE = (
    select(_conferences, _people.c.display_name.label("chair_name"))
    .outerjoin(_people, _people.c.id == _conferences.c.chair_id)
    .where(_conferences.c.reference == bindparam("reference"))
)

#: :reference -> its attendees with their display names (``name``), in the order they were recorded
ATTENDEES = (
    select(_attendees.person_id, _attendees.agency, _people.c.display_name.label("name"))
    .outerjoin(_people, _people.c.id == _attendees.person_id)
    .where(_attendees.reference == bindparam("reference"))
    .order_by(_attendees.id)
)

#: :reference -> its events, oldest first, with the display name of who recorded each (``by_name``)
EVENTS = (
    select(_events, _people.c.display_name.label("by_name"))
    .outerjoin(_people, _people.c.id == _events.c.recorded_by)
    .where(_events.c.reference == bindparam("reference"), _events.c.withdrawn_at.is_(None))
    .order_by(_events.c.at, _events.c.id)
)

#: :reference -> every event ever recorded, withdrawn ones included (the record, for corrections)
ALL_EVENTS = select(_events).where(_events.c.reference == bindparam("reference")).order_by(_events.c.at, _events.c.id)

#: :reference -> its dissents, oldest first, with the dissenting professional's display name (``name``)
DISSENTS = (
    select(_dissents, _people.c.display_name.label("name"))
    .outerjoin(_people, _people.c.id == _dissents.c.person_id)
    .where(_dissents.c.reference == bindparam("reference"))
    .order_by(_dissents.c.raised_at, _dissents.c.id)
)

#: :reference -> its complaints, oldest first
COMPLAINTS = (
    select(_complaints)
    .where(_complaints.c.reference == bindparam("reference"))
    .order_by(_complaints.c.received_at, _complaints.c.id)
)

#: :person_id -> the stored conversation reference (JSON)
CONVERSATION_REF = select(_refs.reference).where(_refs.person_id == bindparam("person_id"))


def among(column: Any, values: Sequence[str], dialect: str) -> Any:
    """``column IN (values)`` for a long list of keys. On PostgreSQL the list goes as one array
    parameter (``= ANY(:values)``), so the statement's text is the same however many there are:
    SQLAlchemy renders no bind per key and psycopg parses and prepares the statement once. Why
    (issue 12): a manager's ``deadlines`` loads its 500 open cases in five reads, and rendering and
    parsing 500 binds in each cost about a quarter of the call on PostgreSQL. SQLite expands them."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(String())))
    return column.in_(list(values))


def _contacts(dialect: str) -> CompoundSelect[Any]:
    """People's emails and conversation references for a list of ids (``ids``), as one statement: a
    ``UNION ALL`` (a conversation may be kept for an id the register no longer has, so not a join).
    On PostgreSQL the ids go as one array (``= ANY``), so the statement's text is the same for any
    number of them and psycopg prepares it once; SQLite expands them."""
    people = _people.c
    if dialect == "postgresql":
        ids: Any = any_(bindparam("ids", type_=postgresql.ARRAY(String())))
        in_people, in_refs = people.id == ids, _refs.person_id == ids
    else:
        listed: Any = bindparam("ids", expanding=True)
        in_people, in_refs = people.id.in_(listed), _refs.person_id.in_(listed)
    return union_all(
        select(people.id.label("person_id"), people.email.label("value"), true().label("from_people")).where(in_people),
        select(_refs.person_id, _refs.reference, false()).where(in_refs),
    )


_CONTACTS = {dialect: _contacts(dialect) for dialect in ("postgresql", "sqlite")}


def contacts(dialect: str) -> CompoundSelect[Any]:
    """The contacts statement for the store's dialect, built once."""
    return _CONTACTS[dialect]


def read_contacts(conn: Connection, dialect: str, person_ids: Sequence[str]) -> dict[str, Contact]:
    """Email and conversation reference of each person, in one statement a chunk of 500 ids (issue 12:
    one round trip, not two). Everyone asked for is in the answer, with None where nothing is known."""
    ids = sorted(set(person_ids))
    out: dict[str, Contact] = {pid: Contact(pid, None, None) for pid in ids}
    stmt = contacts(dialect)
    for i in range(0, len(ids), 500):
        for row in conn.execute(stmt, {"ids": ids[i : i + 500]}):
            c = out[row.person_id]
            if row.from_people:
                out[row.person_id] = Contact(c.person_id, row.value, c.conversation)
            else:
                out[row.person_id] = Contact(c.person_id, c.email, row.value)
    return out
