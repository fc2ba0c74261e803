"""ORM tables behind the ``CaseStore`` port. Case references only: no child or family names, anywhere.

These classes never leave ``store/``: :mod:`store.sql` converts rows to the frozen dataclasses of
:mod:`casework.records` at the edge. The initial Alembic revision creates exactly these tables; a test
compares the two so that they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from store.errors import NaiveDatetimeError

# Named constraints: Alembic needs names to alter or drop a constraint later, and SQLite batch
# migrations rebuild tables by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants in UTC and returns aware UTC datetimes, on every backend.

    SQLite has no timezone type and would silently drop an offset, so values are converted to naive
    UTC on the way in and labelled UTC on the way out. PostgreSQL gets ``timestamptz`` and the
    returned value is normalised to UTC whatever the session's ``TimeZone`` is. Naive datetimes are
    refused: guessing their zone is how a deadline ends up an hour out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError("timestamp", value)
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:  # PostgreSQL in the session time zone UTC (store.engine sets it)
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and its naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PersonRow(Base):
    """A professional, keyed by Entra object id; email is stored lowercased so lookups ignore case."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(), primary_key=True)
    email: Mapped[str] = mapped_column(String(), unique=True)
    display_name: Mapped[str] = mapped_column(String(), default="")
    agency: Mapped[str] = mapped_column(String(), default="")
    line_manager_id: Mapped[str | None] = mapped_column(String())


class RoleGrantRow(Base):
    """A role in one area, or in every area when ``area`` is ``*``."""

    __tablename__ = "role_grants"
    __table_args__ = (Index(None, "role", "area"),)

    # The whole triple is the key: granting the same role twice is a no-op, not a second row.
    person_id: Mapped[str] = mapped_column(String(), primary_key=True)
    role: Mapped[str] = mapped_column(String(), primary_key=True)
    area: Mapped[str] = mapped_column(String(), primary_key=True)


class ConferenceRow(Base):
    """A child protection conference, known only by its case reference. ``is_open`` is False once
    casework judged nothing left to do (casework.openness); every change to its record sets it again."""

    __tablename__ = "conferences"
    __table_args__ = (Index(None, "is_open", "area"), Index(None, "chair_id"))

    reference: Mapped[str] = mapped_column(String(), primary_key=True)
    area: Mapped[str] = mapped_column(String())
    type: Mapped[str] = mapped_column(String())
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chair_id: Mapped[str | None] = mapped_column(String())
    meeting_chat_id: Mapped[str | None] = mapped_column(String(), unique=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    attendees: Mapped[list[AttendeeRow]] = relationship(
        order_by="AttendeeRow.id", cascade="all, delete-orphan", lazy="selectin"
    )


class AttendeeRow(Base):
    """Who attended: the basis of a professional's right to dissent."""

    __tablename__ = "attendees"
    __table_args__ = (UniqueConstraint("reference", "person_id"),)

    # A surrogate key keeps attendees in the order they were recorded.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(), ForeignKey("conferences.reference", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(), index=True)
    agency: Mapped[str] = mapped_column(String(), default="")


class DissentRow(Base):
    """A professional's formal dissent from a conference decision."""

    __tablename__ = "dissents"
    # One open dissent per professional per conference, whatever races (issue 9: no duplicates).
    __table_args__ = (
        Index(
            "uq_dissents_open",
            "reference",
            "person_id",
            unique=True,
            sqlite_where=text("state IN ('raised', 'recorded')"),
            postgresql_where=text("state IN ('raised', 'recorded')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(), index=True)
    person_id: Mapped[str] = mapped_column(String())
    agency: Mapped[str] = mapped_column(String(), default="")
    reason: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(), default="raised")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ComplaintRow(Base):
    """A complaint from a child or family member, recorded by the complainant's role, never a name."""

    __tablename__ = "complaints"
    # One complaint per case, day received and complainant, unless a second is confirmed (``repeat``).
    # The digest reads an area's complaints by stage and by when received (migration 0011).
    __table_args__ = (
        UniqueConstraint("reference", "received_at", "complainant_role", "repeat"),
        Index(None, "area", "stage"),
        Index(None, "area", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(), index=True)
    area: Mapped[str] = mapped_column(String())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    complainant_role: Mapped[str] = mapped_column(String())
    grounds: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(), default="stage1")
    # A received date with no time is a date (issue 9 item 4): received_at is then that day's start.
    received_time_given: Mapped[bool] = mapped_column(Boolean, default=True)
    repeat: Mapped[int] = mapped_column(Integer, default=0)


class CaseTextRow(Base):
    """Free text that belongs to a record but has no column of its own there: a decision's reasons
    (``record_id`` = the dissent) and a correction's reason (the event withdrawn). The audit entry
    holds only its hash (casework.free_text), so the text can be redacted or removed."""

    __tablename__ = "case_texts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(), index=True)
    field: Mapped[str] = mapped_column(String())
    record_id: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class CaseEventRow(Base):
    """Something that happened to a case, from which timelines are computed."""

    __tablename__ = "case_events"
    # The digest finds the cases closed since the last one by event name and time (migration 0011).
    __table_args__ = (Index(None, "name", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(), index=True)
    name: Mapped[str] = mapped_column(String())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str | None] = mapped_column(String())
    # A correction withdraws an event (issue 9 item 3): the row stays, timelines leave it out.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(String())


class AuditRow(Base):
    """One entry of the hash-chained, append-only audit log.

    ``seq`` is assigned by the store (last + 1), not by the database, because it is part of the
    hashed content and must have no gaps. ``detail`` is JSON text so that what is hashed is exactly
    what is read back, with no backend-specific JSON normalisation in between.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String())
    action: Mapped[str] = mapped_column(String())
    reference: Mapped[str] = mapped_column(String(), index=True)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String())
    hash: Mapped[str] = mapped_column(String())
    # The keyed chain (casework.audit_mac): NULL only on entries written before it began.
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cross_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditHeadRow(Base):
    """The last sequence number and hash, written in the same transaction as each entry.

    The chain alone cannot show that its newest entries were deleted; comparing the tail with this
    anchor can (``cpc audit verify`` also prints the head so that it can be recorded elsewhere).
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String())


class ConversationRefRow(Base):
    """Where the bot can reach a person later (a serialized Bot Framework conversation reference).

    Kept per person so that the scheduler and other people's actions (a dissent reaching the chair)
    can post proactive cards; the JSON holds ids and the channel's service URL, nothing personal.
    """

    __tablename__ = "conversation_refs"

    person_id: Mapped[str] = mapped_column(String(), primary_key=True)
    reference: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PersonIdentityRow(Base):
    """The (tenant id, Entra object id) pair a person is known by; ``linked_by`` is how it was tied
    (casework.commands.identity: ``object-id`` or the once-only, audited ``roster-email``)."""

    __tablename__ = "person_identities"

    tenant_id: Mapped[str] = mapped_column(String(), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(), unique=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by: Mapped[str] = mapped_column(String())


class ReminderRow(Base):
    """A planned reminder: rows, not scheduler jobs, so a restart or a second instance can neither
    lose nor duplicate one (ARCHITECTURE: Flows 4).

    ``key`` is the idempotency key (a hash of case, rule, recipient, planned time and kind).
    ``next_attempt_at`` is when the row next needs work (a send, a retry, or updating a sent card to
    "met") and is NULL when there is none: the claim is one range scan of its index, however many
    delivered rows the table holds. ``lease_owner``/``lease_until`` mark a claim; an expired lease is
    claimable again. ``activity_id`` and ``conversation`` locate the card sent, to update it in place.
    """

    __tablename__ = "reminders"
    # No index on the lease columns, and room on each page: a claim is a heap-only update (migration 0012).
    __table_args__ = ({"postgresql_with": {"fillfactor": 90}},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(), unique=True)
    reference: Mapped[str] = mapped_column(String(), index=True)
    area: Mapped[str] = mapped_column(String())
    process: Mapped[str] = mapped_column(String())
    rule_id: Mapped[str] = mapped_column(String())
    kind: Mapped[str] = mapped_column(String())
    person_id: Mapped[str] = mapped_column(String())
    audience: Mapped[str] = mapped_column(String())
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String())
    activity_id: Mapped[str | None] = mapped_column(String())
    conversation: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String())


class NoticeRow(Base):
    """An outbound notice (the chair's prompt, the reviewing manager's card...): the transactional
    outbox. Written in the action's own transaction and delivered by the sweep with the reminders'
    claims, leases, retries and email fallback (ARCHITECTURE: Flows 5). ``key`` is unique, so a notice
    is queued once however often the action is replayed.
    """

    __tablename__ = "notices"
    # No index on the lease columns, and room on each page: a claim is a heap-only update (migration 0012).
    __table_args__ = ({"postgresql_with": {"fillfactor": 90}},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(), unique=True)
    kind: Mapped[str] = mapped_column(String())
    person_id: Mapped[str] = mapped_column(String())
    reference: Mapped[str] = mapped_column(String(), index=True)
    dissent_id: Mapped[int | None] = mapped_column(Integer)
    occasion: Mapped[str] = mapped_column(String(), default="")
    state: Mapped[str] = mapped_column(String())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String())
    activity_id: Mapped[str | None] = mapped_column(String())
    conversation: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String())


class BookingRow(Base):
    """A Stage 2 meeting or panel the bot booked: its Graph transactionId, event, invitees and answers.

    ``transaction_id`` is derived from the case reference, the purpose and the revision, and is stored
    (``pending``) before the create is sent, so a retried or resumed create finds the same event.
    ``invitees`` is JSON: mailbox, kind (required, optional, resource), person id, response, prompted.
    """

    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("reference", "purpose", "revision"), Index(None, "state", "end_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(), index=True)
    purpose: Mapped[str] = mapped_column(String())
    revision: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[str] = mapped_column(String(), unique=True)
    state: Mapped[str] = mapped_column(String(), default="pending")
    organiser: Mapped[str] = mapped_column(String())
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    invitees: Mapped[str] = mapped_column(Text)
    booked_by: Mapped[str] = mapped_column(String())
    chair_id: Mapped[str | None] = mapped_column(String())
    event_id: Mapped[str | None] = mapped_column(String())
    join_url: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[str] = mapped_column(Text, default="[]")
    delay_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
