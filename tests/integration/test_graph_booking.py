"""Booking a Sussex panel end to end: the Booker, the SQL booking store, the real msgraph-sdk, the fake Graph."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from casework.booking import Booker, transaction_id
from casework.clock import LONDON
from casework.errors import AlreadyDone, InvalidInput, NotEntitled, PanelCompositionError
from casework.free_text import text_hash
from casework.ports_graph import CalendarError
from store.bookings import SqlBookings
from store.sql import SqlStore
from tests.e2e.fake_graph import FakeGraph
from tests.integration.graph_world import (
    ORGANISER,
    REFERENCE,
    ROOM,
    Clock,
    booker,
    graph_calendar,
    sussex_world,
    utc,
)

MEMBERS = ["sm-police", "sm-health", "sm-education"]
NINETY = timedelta(minutes=90)
TID1 = transaction_id(REFERENCE, "panel", 1)


def email(pid: str) -> str:
    return f"{pid}@council.example"


def at(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=LONDON)


World = tuple[FakeGraph, SqlStore, SqlBookings, Clock, Booker]


@pytest.fixture()
def world() -> Iterator[World]:
    with FakeGraph() as fake, sussex_world() as (store, bookings, clock):
        # Tue 5 Jan: police busy all day. Wed 6 Jan: health busy 09:00-12:00, the room 13:00-17:00, so the
        # only common gap (12:00-13:00) is too short for 90 minutes. Thu 7 Jan 09:00 is the first slot.
        fake.set_calendar(email("sm-police"), [(utc(2027, 1, 5, 9), utc(2027, 1, 5, 17), "busy")])
        fake.set_calendar(email("sm-health"), [(utc(2027, 1, 6, 9), utc(2027, 1, 6, 12), "busy")])
        fake.set_calendar(ROOM, [(utc(2027, 1, 6, 13), utc(2027, 1, 6, 17), "busy")])
        yield fake, store, bookings, clock, booker(store, bookings, clock, graph_calendar(fake))


def test_find_slots_then_book_with_a_deterministic_transaction_id(world: World) -> None:
    fake, store, bookings, _clock, b = world

    health = store.get_person("sm-health")
    assert health is not None
    store.upsert_person(dataclasses.replace(health, display_name="Robin Shah"))

    async def run() -> None:
        offer = await b.find_slots("cm", REFERENCE, "panel", MEMBERS, ROOM, NINETY)
        assert [s.start for s in offer.search.slots] == [at(2027, 1, 7, 9), at(2027, 1, 8, 9), at(2027, 1, 11, 9)]
        # panel-convened: 20 working days after Mon 4 Jan 2027 is Mon 1 Feb (5.7.23, 5.7.28); the letter's
        # 10 working days (5.7.30) counted back from 1 Feb: the meeting must end by Mon 18 Jan.
        assert offer.window.due is not None and offer.window.due.date().isoformat() == "2027-02-01"
        assert offer.window.latest_end == datetime(2027, 1, 18, 23, 59, 59, tzinfo=LONDON)
        assert "panel-convened" in offer.window.explanation and "less 10 working days" in offer.window.explanation
        assert offer.panel is not None and offer.panel.least_involved == "health"
        assert offer.limitation is None
        assert "Thu 7 Jan 2027 09:00-10:30 GMT" in offer.text()
        assert "Suggested chair: Robin Shah (health)." in offer.text()  # named, not an id
        booking = await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, offer.search.slots[0].start, NINETY)
        assert booking.state == "booked" and booking.transaction_id == TID1 and booking.revision == 1
        assert booking.join_url and booking.warnings == () and booking.chair_id == "sm-health"
        with pytest.raises(AlreadyDone):
            await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 8, 9), NINETY)

    asyncio.run(run())
    (ev,) = fake.live_events()
    assert ev.transaction_id == TID1 and ev.start == utc(2027, 1, 7, 9)
    stored = bookings.get_booking(TID1)
    assert stored is not None and stored.event_id == ev.id and stored.join_url == ev.join_url
    assert [i.email for i in stored.invitees] == [*(email(m) for m in MEMBERS), ROOM]
    (entry,) = [e for e in store.audit_entries(REFERENCE) if e.action == "panel_booked"]
    assert entry.detail["members"] == MEMBERS and entry.detail["transaction_id"] == TID1
    assert "@" not in str(entry.detail["members"])


def test_a_decline_prompts_the_complaints_manager_until_acknowledged_then_a_member_is_replaced(world: World) -> None:
    fake, store, bookings, _clock, b = world

    async def run() -> None:
        booking = await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), NINETY)
        assert booking.event_id is not None
        assert await b.poll_responses() == []
        fake.respond(booking.event_id, email("sm-police"), "declined")
        fake.respond(booking.event_id, email("sm-education"), "accepted")
        police = store.get_person("sm-police")
        assert police is not None
        store.upsert_person(dataclasses.replace(police, display_name="Pat Hughes"))  # as Teams gave it
        (prompt,) = await b.poll_responses()
        assert (prompt.person_id, prompt.kind, prompt.notify) == ("sm-police", "required", ("cm",))
        # The person is named, never given by their id.
        assert prompt.text() == (
            "Pat Hughes declined the Inter-agency complaint panel for CPC-42 (Thu 7 Jan 2027 09:00 GMT): "
            "replace them or rebook."
        )
        assert len(await b.poll_responses()) == 1  # not acknowledged yet: given again
        b.acknowledge(prompt)
        assert await b.poll_responses() == []
        stored = bookings.get_booking(TID1)
        assert stored is not None
        assert {i.email: i.response for i in stored.invitees}[email("sm-education")] == "accepted"
        with pytest.raises(PanelCompositionError, match="tm-1 has line-management responsibility"):
            await b.replace_member("cm", REFERENCE, "panel", "sm-police", "tm-1")
        swapped = await b.replace_member("cm", REFERENCE, "panel", "sm-police", "sm-health-2")
        assert [i.person_id for i in swapped.invitees] == ["sm-health-2", "sm-health", "sm-education", None]
        assert swapped.sequence == 1
        assert await b.poll_responses() == []

    asyncio.run(run())
    (patch,) = fake.requests("patch_event")
    addresses = [a["emailAddress"]["address"] for a in patch.body["attendees"]]
    assert addresses == [email("sm-health-2"), email("sm-health"), email("sm-education"), ROOM]
    assert [e.action for e in store.audit_entries(REFERENCE)][-2:] == [
        "panel_decline_prompted",
        "panel_member_replaced",
    ]


def test_reschedule_and_cancel(world: World) -> None:
    fake, _store, bookings, _clock, b = world

    async def run() -> None:
        await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), NINETY)
        moved = await b.reschedule("cm", REFERENCE, "panel", at(2027, 1, 8, 14))
        assert (moved.start, moved.end, moved.sequence) == (at(2027, 1, 8, 14), at(2027, 1, 8, 15, 30), 1)
        cancelled = await b.cancel("cm", REFERENCE, "panel", "The complaint was withdrawn.")
        assert cancelled.state == "cancelled"
        assert await b.poll_responses() == []
        with pytest.raises(InvalidInput, match="has no Inter-agency complaint panel booked"):
            await b.reschedule("cm", REFERENCE, "panel", at(2027, 1, 11, 9))

    asyncio.run(run())
    (ev,) = fake.live_events()
    assert ev.start == utc(2027, 1, 8, 14) and ev.cancelled
    current = bookings.current_booking(REFERENCE, "panel")
    assert current is not None and current.state == "cancelled"


def test_a_lost_answer_then_a_crash_is_resumed_into_the_same_event(world: World) -> None:
    fake, store, bookings, clock, _b = world
    fake.fail_next("create_event", 503, times=2, after_processing=True)
    flaky = booker(store, bookings, clock, graph_calendar(fake, attempts=2))

    async def run() -> None:
        with pytest.raises(CalendarError):
            await flaky.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), NINETY)
        pending = bookings.current_booking(REFERENCE, "panel")
        assert pending is not None and pending.state == "pending" and pending.transaction_id == TID1
        # The process "restarts": a new Booker and client; the same request resumes the stored booking.
        again = booker(store, bookings, clock, graph_calendar(fake))
        booked = await again.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), NINETY)
        assert booked.state == "booked" and booked.transaction_id == TID1 and booked.revision == 1

    asyncio.run(run())
    assert [r.status for r in fake.requests("create_event")] == [503, 503, 201]
    assert len(fake.live_events()) == 1  # no duplicate


def test_no_slot_before_the_deadline_is_explained_and_a_late_booking_needs_a_reason(world: World) -> None:
    fake, store, _bookings, _clock, b = world
    fake.set_calendar(email("sm-police"), [(utc(2027, 1, 5), utc(2027, 1, 19), "oof")])

    async def run() -> None:
        offer = await b.find_slots("cm", REFERENCE, "panel", MEMBERS, ROOM, NINETY)
        assert offer.search.slots == ()
        sf = offer.search.shortfall
        assert sf is not None
        assert sf.first_after is not None and sf.first_after.start == at(2027, 1, 19, 9)
        assert dict(sf.without)[email("sm-police")].start == at(2027, 1, 5, 9)  # type: ignore[union-attr]
        assert all(email("sm-police") in d.unavailable for d in sf.days)
        text = offer.text()
        assert "First slot after the deadline: Tue 19 Jan 2027 09:00-10:30 GMT" in text
        assert "without sm-police@council.example: Tue 5 Jan 2027 09:00-10:30 GMT" in text
        with pytest.raises(InvalidInput, match="record the reason for the delay"):
            await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 19, 9), NINETY)
        late = await b.book(
            "cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 19, 9), NINETY, delay_reason="Police member on leave"
        )
        assert late.delay_reason == "Police member on leave"

    asyncio.run(run())
    (entry,) = [e for e in store.audit_entries(REFERENCE) if e.action == "panel_booked"]
    assert entry.detail["delay_reason_sha256"] == text_hash("Police member on leave")
    assert "Police member on leave" not in str(entry.detail)  # the text lives in the booking, not the log


def test_a_slot_taken_meanwhile_is_refused_before_booking(world: World) -> None:
    fake, _store, _bookings, _clock, b = world
    fake.set_calendar(ROOM, [(utc(2027, 1, 7, 9), utc(2027, 1, 7, 10), "busy")])

    async def run() -> None:
        with pytest.raises(InvalidInput, match=r"no longer free .*room.oak@council.example"):
            await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), NINETY)

    asyncio.run(run())
    assert fake.live_events() == []


def test_no_teams_link_is_a_warning(world: World) -> None:
    fake, _store, _bookings, _clock, b = world
    fake.disable_teams(ORGANISER)

    async def run() -> None:
        booking = await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), NINETY)
        assert booking.join_url is None
        (warning,) = booking.warnings
        assert "no Teams join link" in warning and "not enabled for Teams" in warning

    asyncio.run(run())


def test_an_event_deleted_in_outlook_is_reported_as_lost(world: World) -> None:
    fake, _store, bookings, _clock, b = world

    async def run() -> None:
        booking = await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), NINETY)
        assert booking.event_id is not None
        fake.delete_event(booking.event_id)
        (prompt,) = await b.poll_responses()
        assert prompt.reason == "lost" and "cancelled or deleted outside the bot" in prompt.text()
        assert await b.poll_responses() == []  # lost bookings are not polled again

    asyncio.run(run())
    lost = bookings.get_booking(TID1)
    assert lost is not None and lost.state == "lost"


def test_only_complaints_managers_book_and_bad_panels_are_refused(world: World) -> None:
    _fake, _store, _bookings, _clock, b = world

    async def run() -> None:
        with pytest.raises(NotEntitled):
            await b.find_slots("outsider", REFERENCE, "panel", MEMBERS, ROOM, NINETY)
        with pytest.raises(
            PanelCompositionError,
            match=r"at least 3 members; 2 proposed \[Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.23\]",
        ):
            await b.find_slots("cm", REFERENCE, "panel", MEMBERS[:2], ROOM, NINETY)
        with pytest.raises(InvalidInput, match="not registered"):
            await b.find_slots("cm", REFERENCE, "panel", [*MEMBERS, "nobody"], ROOM, NINETY)
        with pytest.raises(InvalidInput, match="in the past"):
            await b.book("cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 4, 9), NINETY)

    asyncio.run(run())
