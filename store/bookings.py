"""``SqlBookings``: the ``casework.ports_graph.BookingStore`` port over SQLAlchemy (SQLite and PostgreSQL).

Constructed from the same :class:`~sqlalchemy.Engine` as :class:`store.sql.SqlStore` (``SqlBookings(store.engine)``);
the schema comes from migration ``0005_bookings``. Every method runs its own short transaction and
returns frozen :class:`~casework.ports_graph.Booking` records; rows never leave this module.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from casework.ports_graph import BOOKING_STATES, INVITEE_KINDS, BookedInvitee, Booking
from store.engine import configured_by_us
from store.errors import AlreadyExists, InvalidRecord, NaiveDatetimeError, NotFound
from store.models import BookingRow
from store.sessions import Transactions


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(what, value)
    return value.astimezone(UTC)


def _invitees_json(invitees: tuple[BookedInvitee, ...]) -> str:
    for i in invitees:
        if i.kind not in INVITEE_KINDS:
            raise InvalidRecord("invitee kind", i.kind, INVITEE_KINDS)
    return json.dumps(
        [
            {"email": i.email, "kind": i.kind, "person_id": i.person_id, "response": i.response, "prompted": i.prompted}
            for i in invitees
        ],
        sort_keys=True,
    )


def _invitees(text: str) -> tuple[BookedInvitee, ...]:
    out = []
    for d in json.loads(text or "[]"):
        out.append(
            BookedInvitee(
                email=d["email"],
                kind=d.get("kind", "required"),
                person_id=d.get("person_id"),
                response=d.get("response", "none"),
                prompted=bool(d.get("prompted", False)),
            )
        )
    return tuple(out)


def _booking(row: BookingRow) -> Booking:
    return Booking(
        id=row.id,
        reference=row.reference,
        purpose=row.purpose,
        revision=row.revision,
        transaction_id=row.transaction_id,
        state=row.state,
        organiser=row.organiser,
        start=row.start_at,
        end=row.end_at,
        invitees=_invitees(row.invitees),
        booked_by=row.booked_by,
        chair_id=row.chair_id,
        event_id=row.event_id,
        join_url=row.join_url,
        sequence=row.sequence,
        warnings=tuple(json.loads(row.warnings or "[]")),
        delay_reason=row.delay_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        checked_at=row.checked_at,
    )


def _values(b: Booking, now: datetime) -> dict[str, Any]:
    if b.state not in BOOKING_STATES:
        raise InvalidRecord("booking state", b.state, BOOKING_STATES)
    start, end = _aware(b.start, "booking start"), _aware(b.end, "booking end")
    if end <= start:
        raise InvalidRecord("booking end", end.isoformat(), ("a time after its start",))
    return {
        "state": b.state,
        "organiser": b.organiser,
        "start_at": start,
        "end_at": end,
        "invitees": _invitees_json(b.invitees),
        "chair_id": b.chair_id,
        "event_id": b.event_id,
        "join_url": b.join_url,
        "sequence": b.sequence,
        "warnings": json.dumps(list(b.warnings)),
        "delay_reason": b.delay_reason,
        "updated_at": _aware(b.updated_at, "updated_at") if b.updated_at else now,
        "checked_at": _aware(b.checked_at, "checked_at") if b.checked_at else None,
    }


class SqlBookings:
    def __init__(self, engine: Engine) -> None:
        if not configured_by_us(engine):
            raise ValueError(
                "a SQLite engine for SqlBookings must come from store.engine.make_engine (or SqlStore.engine)"
            )
        self._engine = engine
        tx = Transactions(engine)
        self._read, self._write = tx.read, tx.write

    def start_booking(self, booking: Booking) -> Booking:
        """Insert a pending booking; the same transactionId again returns the stored one unchanged."""
        now = datetime.now(UTC)
        values = _values(booking, now)
        row = BookingRow(
            reference=booking.reference,
            purpose=booking.purpose,
            revision=booking.revision,
            transaction_id=booking.transaction_id,
            booked_by=booking.booked_by,
            created_at=_aware(booking.created_at, "created_at") if booking.created_at else now,
            **values,
        )
        try:
            with self._write() as s:
                s.add(row)
                s.flush()
                return _booking(row)
        except IntegrityError:
            existing = self.get_booking(booking.transaction_id)
            if existing is not None:
                return existing
            raise AlreadyExists(
                "booking revision",
                f"{booking.reference} {booking.purpose} {booking.revision}",
                "another booking took this revision at the same moment; try again",
            ) from None

    def get_booking(self, transaction_id: str) -> Booking | None:
        with self._read() as s:
            row = s.scalars(select(BookingRow).where(BookingRow.transaction_id == transaction_id)).first()
            return _booking(row) if row else None

    def current_booking(self, reference: str, purpose: str) -> Booking | None:
        with self._read() as s:
            row = s.scalars(
                select(BookingRow)
                .where(BookingRow.reference == reference, BookingRow.purpose == purpose)
                .order_by(BookingRow.revision.desc())
                .limit(1)
            ).first()
            return _booking(row) if row else None

    def bookings_for(self, reference: str) -> list[Booking]:
        with self._read() as s:
            rows = s.scalars(
                select(BookingRow)
                .where(BookingRow.reference == reference)
                .order_by(BookingRow.purpose, BookingRow.revision)
            )
            return [_booking(r) for r in rows]

    def latest_revision(self, reference: str, purpose: str) -> int:
        with self._read() as s:
            n = s.scalar(
                select(func.max(BookingRow.revision)).where(
                    BookingRow.reference == reference, BookingRow.purpose == purpose
                )
            )
            return int(n or 0)

    def save_booking(self, booking: Booking) -> Booking:
        with self._write() as s:
            row = s.scalars(select(BookingRow).where(BookingRow.transaction_id == booking.transaction_id)).first()
            if row is None:
                raise NotFound("booking", booking.transaction_id)
            for k, v in _values(booking, datetime.now(UTC)).items():
                setattr(row, k, v)
            s.flush()
            return _booking(row)

    def open_bookings(self, now: datetime) -> list[Booking]:
        with self._read() as s:
            rows = s.scalars(
                select(BookingRow)
                .where(BookingRow.state == "booked", BookingRow.end_at > _aware(now, "now"))
                .order_by(BookingRow.start_at, BookingRow.id)
            )
            return [_booking(r) for r in rows]

    def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        with self._read() as s:
            rows = s.scalars(
                select(BookingRow)
                .where(
                    BookingRow.state.in_(("pending", "booked")),
                    BookingRow.start_at < _aware(end, "end"),
                    BookingRow.end_at > _aware(start, "start"),
                )
                .order_by(BookingRow.start_at, BookingRow.id)
            )
            return [_booking(r) for r in rows]
