"""SqlBookings on SQLite and PostgreSQL: migration 0005, idempotent starts, saves, and the queries the jobs use."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from casework.booking import transaction_id
from casework.ports_graph import BookedInvitee, Booking
from store.bookings import SqlBookings
from store.engine import make_engine
from store.errors import InvalidRecord, NaiveDatetimeError, NotFound
from store.migrate import alembic_config, head
from store.sql import SqlStore

T0 = datetime(2027, 1, 7, 9, tzinfo=UTC)


def booking(revision: int = 1, start: datetime = T0, state: str = "pending") -> Booking:
    return Booking(
        reference="CPC-42",
        purpose="panel",
        revision=revision,
        transaction_id=transaction_id("CPC-42", "panel", revision),
        state=state,
        organiser="panels@council.example",
        start=start,
        end=start + timedelta(minutes=90),
        invitees=(
            BookedInvitee("a@council.example", "required", "a"),
            BookedInvitee("room@council.example", "resource", None, "accepted"),
        ),
        booked_by="cm",
        chair_id="a",
        created_at=T0 - timedelta(days=2),
    )


def test_the_bookings_revision_is_on_the_chain_to_the_head(store: SqlStore) -> None:
    """Later migrations follow it (0006 onwards): it must stay below the head, whichever that is."""
    script = ScriptDirectory.from_config(alembic_config())
    assert "0005_bookings" in {r.revision for r in script.walk_revisions("base", head())}
    engine = store.engine
    assert "bookings" in inspect(engine).get_table_names()


def test_start_save_and_read_back(store: SqlStore) -> None:
    repo = SqlBookings(store.engine)
    assert repo.latest_revision("CPC-42", "panel") == 0 and repo.current_booking("CPC-42", "panel") is None
    first = repo.start_booking(booking())
    assert first.id is not None and first.state == "pending" and first.start == T0 and first.start.tzinfo is not None
    assert repo.start_booking(booking(1, T0 + timedelta(days=1))) == first  # same transactionId: kept
    saved = repo.save_booking(
        replace(
            first,
            state="booked",
            event_id="AAMk-1",
            join_url="https://teams.example.invalid/x",
            warnings=("w1",),
            invitees=(replace(first.invitees[0], response="declined", prompted=True), first.invitees[1]),
            checked_at=T0,
        )
    )
    assert saved.event_id == "AAMk-1" and saved.warnings == ("w1",) and saved.invitees[0].prompted
    got = repo.get_booking(first.transaction_id)
    assert got == saved
    assert repo.current_booking("CPC-42", "panel") == saved and repo.latest_revision("CPC-42", "panel") == 1
    assert [b.transaction_id for b in repo.bookings_for("CPC-42")] == [first.transaction_id]


def test_open_bookings_and_bookings_between(store: SqlStore) -> None:
    repo = SqlBookings(store.engine)
    a = repo.save_booking(replace(repo.start_booking(booking(1)), state="booked"))
    repo.save_booking(replace(repo.start_booking(booking(2, T0 + timedelta(days=1))), state="cancelled"))
    c = repo.start_booking(booking(3, T0 + timedelta(days=2)))
    assert repo.open_bookings(T0) == [a]
    assert repo.open_bookings(T0 + timedelta(hours=2)) == []  # it has ended
    between = repo.bookings_between(T0 - timedelta(days=1), T0 + timedelta(days=5))
    assert [b.revision for b in between] == [1, 3] and between[1] == c


def test_bad_records_are_refused(store: SqlStore) -> None:
    repo = SqlBookings(store.engine)
    with pytest.raises(NaiveDatetimeError):
        repo.start_booking(replace(booking(), start=datetime(2027, 1, 7, 9), end=datetime(2027, 1, 7, 10)))
    with pytest.raises(InvalidRecord):
        repo.start_booking(replace(booking(), state="maybe"))
    with pytest.raises(InvalidRecord):
        repo.start_booking(replace(booking(), end=T0))
    with pytest.raises(InvalidRecord):
        repo.start_booking(replace(booking(), invitees=(BookedInvitee("x@council.example", "guest"),)))
    with pytest.raises(NotFound):
        repo.save_booking(booking(9))


def test_a_plain_sqlite_engine_is_refused(tmp_path: object) -> None:
    from sqlalchemy import create_engine

    plain = create_engine("sqlite://")
    with pytest.raises(ValueError, match="make_engine"):
        SqlBookings(plain)
    plain.dispose()
    ours = make_engine("sqlite://")
    SqlBookings(ours)
    ours.dispose()
