"""Row converters and value checks shared by the store's repositories.

The converters read attributes only, so they take ORM instances and Core rows alike; ORM rows never
leave ``store/``: callers get the frozen dataclasses of ``casework.records``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Row, Table

from casework.records import (
    Attendee,
    AuditEntry,
    CaseEvent,
    Complaint,
    Conference,
    Dissent,
    Person,
    StoredNotice,
    StoredReminder,
)
from store import statements
from store.errors import InvalidRecord, NaiveDatetimeError
from store.models import (
    AuditRow,
    CaseEventRow,
    ComplaintRow,
    ConferenceRow,
    DissentRow,
    NoticeRow,
    PersonRow,
    ReminderRow,
)

ALL_AREAS = statements.ALL_AREAS
# pg_advisory_xact_lock key serialising audit appends ("CPC_AUDT"); released at commit or rollback.
AUDIT_LOCK_KEY = 0x4350_435F_4155_4454
# Rows fetched per round trip by iter_audit: bounded memory, no transaction held between batches.
AUDIT_BATCH = 500


def _aware(value: datetime, what: str) -> datetime:
    """Refuse naive datetimes here, with the field's name, rather than deep inside a flush."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(what, value)
    return value.astimezone(UTC)


def _aware_or_none(value: datetime | None, what: str) -> datetime | None:
    return None if value is None else _aware(value, what)


def _normal_email(email: str) -> str:
    return email.strip().lower()


def _check(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidRecord(field, value, allowed)


def _canonical_detail(detail: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The JSON text stored and the dict it reads back as; the hash is taken over the latter.

    Hashing what will be read back (not what was passed in) keeps the chain verifiable when a
    caller passes a tuple, a datetime or a non-string key that JSON turns into something else.
    """
    # First pass turns keys into strings (sorting mixed int and str keys would fail), second sorts.
    loaded = json.loads(json.dumps(detail, default=str, allow_nan=False))
    if not isinstance(loaded, dict):
        raise TypeError(f"audit detail must be a JSON object, not {type(detail).__name__}")
    return json.dumps(loaded, sort_keys=True, ensure_ascii=False, allow_nan=False), loaded


# -- rows to records ---------------------------------------------------------------------------


def _person(row: PersonRow | Row[Any]) -> Person:
    return Person(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        agency=row.agency,
        line_manager_id=row.line_manager_id,
    )


# The converters below read attributes only, so they take ORM instances and Core rows alike.


def _conference(row: ConferenceRow | Row[Any], attendees: Any = None) -> Conference:
    return Conference(
        reference=row.reference,
        area=row.area,
        type=row.type,
        scheduled_at=row.scheduled_at,
        held_at=row.held_at,
        ended_at=row.ended_at,
        chair_id=row.chair_id,
        attendees=tuple(
            Attendee(person_id=a.person_id, agency=a.agency)
            for a in (row.attendees if attendees is None else attendees)
        ),
        meeting_chat_id=row.meeting_chat_id,
    )


def _dissent(row: DissentRow | Row[Any]) -> Dissent:
    return Dissent(
        id=row.id,
        reference=row.reference,
        person_id=row.person_id,
        agency=row.agency,
        reason=row.reason,
        raised_at=row.raised_at,
        late=row.late,
        state=row.state,
        decided_at=row.decided_at,
    )


def _complaint(row: ComplaintRow | Row[Any]) -> Complaint:
    return Complaint(
        id=row.id,
        reference=row.reference,
        area=row.area,
        received_at=row.received_at,
        complainant_role=row.complainant_role,
        grounds=row.grounds,
        summary=row.summary,
        stage=row.stage,
        time_given=row.received_time_given,
        repeat=row.repeat,
    )


def _event(row: CaseEventRow | Row[Any]) -> CaseEvent:
    return CaseEvent(reference=row.reference, name=row.name, at=row.at, recorded_by=row.recorded_by, id=row.id)


def _all_of(cls: type[Any], renamed: Mapping[str, str]) -> Callable[[Sequence[Row[Any]]], list[Any]]:
    """Build many records from rows by position: the column of each field (``renamed`` where the
    column's name differs) is found once per result, not looked up by name in every row.

    Why: the sweep builds up to a thousand rows a minute, and reading twenty fields of a row by name
    cost about 25 µs a row on this machine, most of the Python time of a claim (issue 12).
    """
    columns = tuple(renamed.get(f.name, f.name) for f in fields(cls))

    def build(rows: Sequence[Row[Any]]) -> list[Any]:
        if not rows:
            return []
        names = rows[0]._fields
        pick = itemgetter(*(names.index(c) for c in columns))
        return [cls(*pick(row)) for row in rows]

    return build


#: Rows of the reminders table (or a claim's) as StoredReminder, many at a time.
reminders_of: Callable[[Sequence[Row[Any]]], list[StoredReminder]] = _all_of(StoredReminder, {"due": "due_at"})


REMINDERS = cast(Table, ReminderRow.__table__)
# States whose rows the sweep works on (next_attempt_at is set only for these).
WORK_STATES = ("pending", "met_due")


def _audit(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        reference=row.reference,
        detail=json.loads(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
        mac=row.mac,
        key_id=row.key_id,
        cross_mac=row.cross_mac,
    )


NOTICES = cast(Table, NoticeRow.__table__)
# States whose notice rows the sweep works on.
NOTICE_WORK_STATES = ("pending",)


#: Rows of the notices table (or a claim's) as StoredNotice, many at a time.
notices_of: Callable[[Sequence[Row[Any]]], list[StoredNotice]] = _all_of(StoredNotice, {})
