"""``SqlStore``: the ``casework.ports.CaseStore`` port over SQLAlchemy, for SQLite and PostgreSQL.

Every method opens its own short transaction and returns frozen ``casework.records`` dataclasses;
ORM rows never leave this module, so callers cannot lazily load or accidentally mutate them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import URL, Engine, Row, Table, case, make_url, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.audit import GENESIS, entry_hash
from casework.records import (
    COMPLAINANT_ROLES,
    CONFERENCE_TYPES,
    ROLES,
    Attendee,
    AuditEntry,
    CaseEvent,
    CaseFile,
    Complaint,
    Conference,
    Contact,
    Dissent,
    Person,
    PlanChange,
    RoleGrant,
    StoredReminder,
)
from casework.reminders import Reminder
from store import statements
from store.engine import SUPPORTED_BACKENDS, configured_by_us, make_engine
from store.errors import AlreadyExists, InvalidRecord, NaiveDatetimeError, NotFound
from store.migrate import upgrade
from store.models import (
    AttendeeRow,
    AuditHeadRow,
    AuditRow,
    CaseEventRow,
    ComplaintRow,
    ConferenceRow,
    ConversationRefRow,
    DissentRow,
    PersonRow,
    ReminderRow,
    RoleGrantRow,
)
from store.sessions import Transactions

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
    )


def _event(row: CaseEventRow | Row[Any]) -> CaseEvent:
    return CaseEvent(reference=row.reference, name=row.name, at=row.at, recorded_by=row.recorded_by)


def _reminder(row: ReminderRow | Row[Any]) -> StoredReminder:
    return StoredReminder(
        id=row.id,
        key=row.key,
        reference=row.reference,
        area=row.area,
        process=row.process,
        rule_id=row.rule_id,
        kind=row.kind,
        person_id=row.person_id,
        audience=row.audience,
        send_at=row.send_at,
        due=row.due_at,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        sent_at=row.sent_at,
        channel=row.channel,
        activity_id=row.activity_id,
        conversation=row.conversation,
    )


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
    )


class SqlStore:
    """Persistence of people, conferences, dissents, complaints, events and the audit log.

    Construct it from a URL (it then owns, and :meth:`close` disposes, its engine) or from an
    Engine made by :func:`store.engine.make_engine` (the caller keeps ownership). Either way the
    schema must already be migrated: :func:`open_store` does both.

    The audit log is append-only through this class: there is deliberately no method that updates
    or deletes an entry.
    """

    def __init__(self, url_or_engine: str | URL | Engine) -> None:
        if isinstance(url_or_engine, Engine):
            backend = url_or_engine.dialect.name
        else:
            backend = make_url(url_or_engine).get_backend_name()
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(f"unsupported database {backend!r}; use one of: {', '.join(SUPPORTED_BACKENDS)}")
        if isinstance(url_or_engine, Engine):
            if not configured_by_us(url_or_engine):
                raise ValueError(
                    "a SQLite engine for SqlStore must come from store.engine.make_engine, which "
                    "adds the BEGIN IMMEDIATE handling that keeps concurrent audit appends in order"
                )
            self._engine = url_or_engine
            self._owns_engine = False
        else:
            self._engine = make_engine(url_or_engine)
            self._owns_engine = True
        self._dialect = self._engine.dialect.name
        tx = Transactions(self._engine)
        self._read, self._core_read, self._write = tx.read, tx.core_read, tx.write

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        """Release pooled connections (only those of an engine this store created)."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"

    def _insert(self) -> Callable[..., Any]:
        """The dialect's INSERT, which (on both our backends) has ON CONFLICT clauses."""
        return postgresql.insert if self._dialect == "postgresql" else sqlite.insert

    # -- people and roles ------------------------------------------------------------------------

    def upsert_person(self, person: Person) -> Person:
        """Insert or update by id; the email is stored lowercased so it matches in any case."""
        email = _normal_email(person.email)
        if not email:
            raise InvalidRecord("email", person.email, ("a non-empty address",))
        values = {
            "id": person.id,
            "email": email,
            "display_name": person.display_name,
            "agency": person.agency,
            "line_manager_id": person.line_manager_id,
        }
        stmt = self._insert()(PersonRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[PersonRow.id], set_={k: v for k, v in values.items() if k != "id"}
        )
        try:
            with self._write() as s:
                s.execute(stmt)
        except IntegrityError as exc:
            raise AlreadyExists("email", email, "another person holds it; update or merge that person first") from exc
        return Person(person.id, email, person.display_name, person.agency, person.line_manager_id)

    def get_person(self, person_id: str) -> Person | None:
        with self._core_read() as conn:
            row = conn.execute(statements.PERSON, {"person_id": person_id}).first()
            return None if row is None else _person(row)

    def find_person_by_email(self, email: str) -> Person | None:
        with self._read() as s:
            row = s.scalars(select(PersonRow).where(PersonRow.email == _normal_email(email))).first()
            return None if row is None else _person(row)

    def grant_role(self, grant: RoleGrant) -> None:
        """Grant a role in an area (``*`` for every area); granting it again is a no-op."""
        _check("role", grant.role, ROLES)
        if not grant.area:
            raise InvalidRecord("area", grant.area, ("an area name", ALL_AREAS))
        stmt = (
            self._insert()(RoleGrantRow)
            .values(person_id=grant.person_id, role=grant.role, area=grant.area)
            .on_conflict_do_nothing()
        )
        with self._write() as s:
            s.execute(stmt)

    def roles_of(self, person_id: str, area: str) -> set[str]:
        """Roles held in ``area`` plus those granted for every area."""
        with self._core_read() as conn:
            roles = conn.execute(statements.ROLES, {"person_id": person_id, "area": area})
            return {r.role for r in roles}

    def people_with_role(self, role: str, area: str) -> list[Person]:
        """People holding ``role`` in ``area`` or in every area, ordered by name then email."""
        holders = select(RoleGrantRow.person_id).where(
            RoleGrantRow.role == role, RoleGrantRow.area.in_((area, ALL_AREAS))
        )
        with self._read() as s:
            rows = s.scalars(
                select(PersonRow)
                .where(PersonRow.id.in_(holders))
                .order_by(PersonRow.display_name, PersonRow.email, PersonRow.id)
            )
            return [_person(r) for r in rows]

    # -- conferences -----------------------------------------------------------------------------

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
        key = {"reference": reference}
        with self._core_read() as s:
            row = s.execute(statements.CONFERENCE, key).first()
            if row is None:
                return None
            attendees = s.execute(statements.ATTENDEES, key).all()
            events = s.execute(statements.EVENTS, key).all()
            dissents = s.execute(statements.DISSENTS, key).all()
            complaints = s.execute(statements.COMPLAINTS, key).all()
        return CaseFile(
            _conference(row, attendees),
            tuple(_event(x) for x in events),
            tuple(_dissent(x) for x in dissents),
            tuple(_complaint(x) for x in complaints),
        )

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

    def conference_for_chat(self, meeting_chat_id: str) -> Conference | None:
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

    def get_complaint(self, complaint_id: int) -> Complaint | None:
        with self._read() as s:
            row = s.get(ComplaintRow, complaint_id)
            return None if row is None else _complaint(row)

    # -- conversation references ---------------------------------------------------------------

    def save_conversation_ref(self, person_id: str, reference_json: str) -> None:
        with self._write() as s:
            s.merge(ConversationRefRow(person_id=person_id, reference=reference_json, updated_at=datetime.now(UTC)))

    def conversation_ref(self, person_id: str) -> str | None:
        with self._core_read() as conn:
            found: str | None = conn.execute(statements.CONVERSATION_REF, {"person_id": person_id}).scalar()
            return found

    def conferences_attended_by(self, person_id: str) -> list[Conference]:
        """Conferences listing the person as an attendee, by reference."""
        attended = select(AttendeeRow.reference).where(AttendeeRow.person_id == person_id)
        with self._read() as s:
            rows = s.scalars(
                select(ConferenceRow).where(ConferenceRow.reference.in_(attended)).order_by(ConferenceRow.reference)
            )
            return [_conference(r) for r in rows]

    # -- dissents and complaints -----------------------------------------------------------------

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
            return _dissent(row)

    def dissents_for(self, reference: str) -> list[Dissent]:
        with self._core_read() as s:
            return [_dissent(r) for r in s.execute(statements.DISSENTS, {"reference": reference})]

    def get_dissent(self, dissent_id: int) -> Dissent | None:
        with self._read() as s:
            row = s.get(DissentRow, dissent_id)
            return None if row is None else _dissent(row)

    def transition_dissent(self, dissent_id: int, expected: tuple[str, ...], state: str) -> bool:
        """Compare-and-set: move to ``state`` only from one of ``expected``; False if it had moved.

        One UPDATE ... WHERE state IN (...), so two clicks racing on two instances cannot both win.
        """
        with self._write() as s:
            result = s.execute(
                update(DissentRow)
                .where(DissentRow.id == dissent_id, DissentRow.state.in_(expected))
                .values(state=state)
            )
            return bool(getattr(result, "rowcount", 0))

    def set_dissent_state(self, dissent_id: int, state: str) -> None:
        with self._write() as s:
            row = s.get(DissentRow, dissent_id)
            if row is None:
                raise NotFound("dissent", dissent_id)
            row.state = state

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
        )
        with self._write() as s:
            s.add(row)
            s.flush()
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
            return _event(row)

    def events_for(self, reference: str) -> list[CaseEvent]:
        """A case's events in time order (recording order breaks ties)."""
        with self._core_read() as s:
            return [_event(r) for r in s.execute(statements.EVENTS, {"reference": reference})]

    # -- audit -----------------------------------------------------------------------------------

    def append_audit(
        self, actor: str, action: str, reference: str, detail: dict[str, Any], at: datetime | None = None
    ) -> AuditEntry:
        """Append one entry chained to the last: seq = last + 1, prev_hash = the last entry's hash.

        Reading the last entry and inserting the next happen under one lock (a PostgreSQL
        transaction-level advisory lock; SQLite's write lock, taken by BEGIN IMMEDIATE), so
        concurrent writers, in this process or another, queue rather than fork the chain.
        """
        when = datetime.now(UTC) if at is None else _aware(at, "audit time")
        stored_detail, hashed_detail = _canonical_detail(detail)
        with self._write() as s:
            if self._dialect == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
            last = s.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
            seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
            digest = entry_hash(seq, when, actor, action, reference, hashed_detail, prev)
            s.add(
                AuditRow(
                    seq=seq,
                    at=when,
                    actor=actor,
                    action=action,
                    reference=reference,
                    detail=stored_detail,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            s.merge(AuditHeadRow(id=1, seq=seq, hash=digest))
        return AuditEntry(
            seq=seq,
            at=when,
            actor=actor,
            action=action,
            reference=reference,
            detail=hashed_detail,
            prev_hash=prev,
            hash=digest,
        )

    def audit_entries(self, reference: str | None = None) -> Sequence[AuditEntry]:
        """All entries (or one case's) in seq order, read in one transaction."""
        query = select(AuditRow).order_by(AuditRow.seq)
        if reference is not None:
            query = query.where(AuditRow.reference == reference)
        with self._read() as s:
            return [_audit(r) for r in s.scalars(query)]

    def audit_head(self) -> tuple[int, str] | None:
        """The anchored (seq, hash) of the newest entry, or None for an empty log."""
        with self._read() as s:
            row = s.get(AuditHeadRow, 1)
            return None if row is None else (row.seq, row.hash)

    def iter_audit(self) -> Iterator[AuditEntry]:
        """Every entry in seq order, fetched in batches so a long log needs neither memory nor a
        transaction held open while the caller works through it."""
        after = 0
        while True:
            with self._read() as s:
                rows = list(
                    s.scalars(select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(AUDIT_BATCH))
                )
                entries = [_audit(r) for r in rows]
            yield from entries
            if len(entries) < AUDIT_BATCH:
                return
            after = entries[-1].seq

    # -- reminders ---------------------------------------------------------------------------------

    def replace_reminders(
        self, reference: str, reminders: Sequence[Reminder], met_rules: frozenset[str], now: datetime
    ) -> PlanChange:
        """Store a case's freshly computed reminder plan, in one transaction.

        New rows are added (their key is unique, so two instances replanning at once add each row
        once); pending rows the plan no longer has are cancelled (the deadline was met or moved);
        cancelled rows the plan has again come back; rows already sent are never sent again. Sent
        cards of ``met_rules`` are marked ``met_due`` so the sweep updates them in place.
        """
        now = _aware(now, "now")
        t = REMINDERS
        planned = {r.key: r for r in reminders}
        inserted = cancelled = restored = refresh = 0
        with self._write() as s:
            existing = s.execute(
                select(t.c.id, t.c.key, t.c.state, t.c.rule_id, t.c.channel, t.c.activity_id).where(
                    t.c.reference == reference
                )
            ).all()
            known = {row.key for row in existing}
            for row in existing:
                if row.state == "pending" and row.key not in planned:
                    s.execute(
                        update(t)
                        .where(t.c.id == row.id, t.c.state == "pending")
                        .values(state="cancelled", next_attempt_at=None)
                    )
                    cancelled += 1
                elif row.state == "cancelled" and row.key in planned and planned[row.key].state == "pending":
                    r = planned[row.key]
                    s.execute(
                        update(t)
                        .where(t.c.id == row.id, t.c.state == "cancelled")
                        .values(state="pending", next_attempt_at=_aware(r.send_at, "send_at"), due_at=r.due)
                    )
                    restored += 1
                elif (
                    row.state == "sent"
                    and row.rule_id in met_rules
                    and row.channel == "teams"
                    and row.activity_id is not None
                ):
                    s.execute(
                        update(t)
                        .where(t.c.id == row.id, t.c.state == "sent")
                        .values(state="met_due", next_attempt_at=now)
                    )
                    refresh += 1
            values = [
                {
                    "key": r.key,
                    "reference": r.reference,
                    "area": r.area,
                    "process": r.process,
                    "rule_id": r.rule_id,
                    "kind": r.kind,
                    "person_id": r.person_id,
                    "audience": r.audience,
                    "send_at": _aware(r.send_at, "send_at"),
                    "due_at": _aware_or_none(r.due, "due"),
                    "state": r.state,
                    "next_attempt_at": _aware(r.send_at, "send_at") if r.state == "pending" else None,
                    "attempts": 0,
                }
                for r in reminders
                if r.key not in known
            ]
            if values:
                result = s.execute(self._insert()(ReminderRow).on_conflict_do_nothing(index_elements=["key"]), values)
                inserted = max(int(getattr(result, "rowcount", 0) or 0), 0) or len(values)
        return PlanChange(inserted, cancelled, restored, refresh)

    def reminders_for(self, reference: str) -> list[StoredReminder]:
        """A case's reminder rows, by planned time."""
        t = REMINDERS
        with self._core_read() as conn:
            rows = conn.execute(select(t).where(t.c.reference == reference).order_by(t.c.send_at, t.c.id)).all()
        return [_reminder(r) for r in rows]

    def claim_reminders(self, now: datetime, owner: str, limit: int, lease_until: datetime) -> list[StoredReminder]:
        """Atomically claim up to ``limit`` rows due by ``now`` that nobody holds (or whose lease
        expired), leasing them to ``owner`` until ``lease_until``.

        PostgreSQL: one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n)
        RETURNING``, so concurrent claimers take disjoint rows without waiting for each other.
        SQLite: the same select and update inside one ``BEGIN IMMEDIATE`` transaction (one writer).
        """
        now = _aware(now, "now")
        lease_until = _aware(lease_until, "lease_until")
        t = REMINDERS
        due = (
            select(t.c.id)
            .where(
                t.c.next_attempt_at <= now,
                t.c.state.in_(WORK_STATES),
                or_(t.c.lease_until.is_(None), t.c.lease_until < now),
            )
            .order_by(t.c.next_attempt_at)
            .limit(limit)
        )
        with self._write() as s:
            if self._dialect == "postgresql":
                stmt = (
                    update(t)
                    .where(t.c.id.in_(due.with_for_update(skip_locked=True).scalar_subquery()))
                    .values(lease_owner=owner, lease_until=lease_until)
                    .returning(*t.c)
                )
                rows = s.execute(stmt).all()
            else:
                ids = list(s.scalars(due))
                if not ids:
                    return []
                s.execute(update(t).where(t.c.id.in_(ids)).values(lease_owner=owner, lease_until=lease_until))
                rows = s.execute(select(t).where(t.c.id.in_(ids))).all()
        return sorted((_reminder(r) for r in rows), key=lambda r: (r.next_attempt_at or now, r.id))

    def _finish(self, reminder_id: int, owner: str, values: dict[str, Any]) -> bool:
        """Update a row this owner holds and release its lease; False if the lease was lost."""
        t = REMINDERS
        with self._write() as s:
            result = s.execute(
                update(t)
                .where(t.c.id == reminder_id, t.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None, **values)
            )
            return bool(getattr(result, "rowcount", 0))

    def mark_reminder_sent(
        self, reminder_id: int, owner: str, at: datetime, activity_id: str, conversation: str
    ) -> bool:
        """Delivered in Teams: keep where the card is, so it can be updated when the deadline is met."""
        return self._finish(
            reminder_id,
            owner,
            {
                "state": "sent",
                "next_attempt_at": None,
                "sent_at": _aware(at, "sent at"),
                "channel": "teams",
                "activity_id": activity_id,
                "conversation": conversation,
                "last_error": None,
            },
        )

    def mark_reminder_emailed(self, reminder_id: int, owner: str, at: datetime, attempts: int, reason: str) -> bool:
        """Handed to email (no conversation reference, blocked in Teams, or too many failures);
        ``attempts`` is the total of failed Teams attempts."""
        return self._finish(
            reminder_id,
            owner,
            {
                "state": "emailed",
                "next_attempt_at": None,
                "sent_at": _aware(at, "sent at"),
                "channel": "email",
                "attempts": attempts,
                "last_error": reason[:200],
            },
        )

    def mark_reminder_failed(
        self, reminder_id: int, owner: str, attempts: int, retry_at: datetime | None, error: str
    ) -> bool:
        """A failed attempt: ``attempts`` is the new total; retried at ``retry_at``, or given up for
        good when it is None (state ``failed`` for a send, back to ``sent`` for a card update)."""
        values: dict[str, Any] = {"attempts": attempts, "last_error": error[:200]}
        if retry_at is not None:
            values["next_attempt_at"] = _aware(retry_at, "retry at")
        else:
            t = REMINDERS
            values["next_attempt_at"] = None
            # A send given up is undeliverable; a card update given up leaves the card as it was.
            values["state"] = case((t.c.state == "met_due", "sent"), else_="failed")
        return self._finish(reminder_id, owner, values)

    def mark_card_updated(self, reminder_id: int, owner: str, at: datetime) -> bool:
        """The sent card now shows that its deadline was met."""
        return self._finish(reminder_id, owner, {"state": "met_shown", "next_attempt_at": None})

    def release_expired_leases(self, now: datetime) -> int:
        """Clear leases that ran out (their holder crashed or stalled) so any instance takes the rows;
        returns how many. Claims also take such rows directly: this makes the reclaim visible."""
        now = _aware(now, "now")
        t = REMINDERS
        with self._write() as s:
            result = s.execute(
                update(t)
                .where(t.c.lease_until.is_not(None), t.c.lease_until < now, t.c.state.in_(WORK_STATES))
                .values(lease_owner=None, lease_until=None)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def reminder_contacts(self, person_ids: Sequence[str]) -> dict[str, Contact]:
        """Email and conversation reference of each person, in one read."""
        if not person_ids:
            return {}
        p, r = PersonRow.__table__, ConversationRefRow.__table__
        ids = sorted(set(person_ids))
        out: dict[str, Contact] = {pid: Contact(pid, None, None) for pid in ids}
        with self._core_read() as conn:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                for row in conn.execute(select(p.c.id, p.c.email).where(p.c.id.in_(chunk))):
                    out[row.id] = Contact(row.id, row.email, None)
                for row in conn.execute(select(r.c.person_id, r.c.reference).where(r.c.person_id.in_(chunk))):
                    c = out[row.person_id]
                    out[row.person_id] = Contact(c.person_id, c.email, row.reference)
        return out

    def complaints_in_area(self, area: str) -> list[Complaint]:
        """Every complaint about a conference of ``area``, oldest first (for the digest)."""
        with self._read() as s:
            rows = s.scalars(
                select(ComplaintRow)
                .where(ComplaintRow.area == area)
                .order_by(ComplaintRow.received_at, ComplaintRow.id)
            )
            return [_complaint(r) for r in rows]


def open_store(url: str, migrate: bool = True) -> SqlStore:
    """Open the store at ``url``, first bringing its schema up to date unless told not to.

    The migration runs on the store's own engine, so an in-memory SQLite database (``sqlite://``)
    is migrated and then used, rather than migrated and thrown away.
    """
    store = SqlStore(url)
    if migrate:
        try:
            upgrade(store.engine)
        except BaseException:
            store.close()
            raise
    return store


__all__ = ["ALL_AREAS", "SqlStore", "open_store"]
