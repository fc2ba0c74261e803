"""Shared pieces for the Graph integration tests: a clock, a recording sleep, a Sussex case ready for a panel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.procedures import load_catalogue
from casework.booking import Booker
from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from casework.slots import WorkingHours
from graph.client import GraphConfig, build_client
from graph.graph_calendar import GraphCalendar
from graph.retry import RetryPolicy
from store.bookings import SqlBookings
from store.sql import SqlStore, open_store
from tests.e2e.fake_graph import FakeCredential, FakeGraph

ORGANISER = "panels@council.example"
SENDER = "complaints@council.example"
ROOM = "room.oak@council.example"
REFERENCE = "CPC-42"
#: Mon 4 Jan 2027 10:00 GMT: the complainant asks for Stage 3 (Sussex 5.7.23). Panel within 20 working
#: days: Mon 1 Feb 2027; less 10 working days for the letter (5.7.30): the meeting by Mon 18 Jan 2027.
STAGE3_REQUESTED = "2027-01-04T10:00"
NOW = "2027-01-05T08:00"


class Clock:
    def __init__(self, at: str) -> None:
        self.at = parse_time(at)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Sleeps:
    """An async sleep that only records how long it was asked to wait (and can move a clock)."""

    clock: Clock | None = None
    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


def graph_client(fake: FakeGraph, roles: Any = None, timeout: float = 10.0) -> Any:
    cfg = GraphConfig(base_url=fake.base_url, organiser=ORGANISER, sender=SENDER, timeout=timeout)
    return build_client(cfg, credential=FakeCredential() if roles is None else FakeCredential(roles))


MEMBERS = [
    # id, agency, line manager
    ("sm-police", "police", None),
    ("sm-health", "health", None),
    ("sm-education", "education", None),
    ("sm-health-2", "health", None),
    ("tm-1", "social_care", None),
]


def seed_case(store: SqlStore) -> None:
    for pid, agency, line in [
        ("chair-1", "local_authority", None),
        ("sw-1", "social_care", "tm-1"),
        ("pc-1", "police", None),
        ("cm", "social_care", None),
        ("outsider", "education", None),
        *MEMBERS,
    ]:
        store.upsert_person(Person(pid, f"{pid}@council.example", "", agency, line))
    store.grant_role(RoleGrant("cm", "complaints_manager", "sussex"))
    store.add_conference(
        Conference(
            REFERENCE,
            "sussex",
            "initial",
            held_at=parse_time("2026-11-02T10:00"),
            chair_id="chair-1",
            attendees=(Attendee("sw-1", "social_care"), Attendee("pc-1", "police")),
        )
    )
    for name, at in [
        ("conference_held", "2026-11-02T10:00"),
        ("complaint_received", "2026-11-09T10:00"),
        ("stage1_meeting_held", "2026-11-16T10:00"),
        ("stage1_response_sent", "2026-11-23T10:00"),
        ("stage2_requested", "2026-11-30T10:00"),
        ("stage2_meeting_held", "2026-12-07T10:00"),
        ("stage2_letter_sent", "2026-12-14T10:00"),
        ("stage3_requested", STAGE3_REQUESTED),
    ]:
        store.record_event(CaseEvent(REFERENCE, name, parse_time(at), "test"))


@contextmanager
def sussex_world(fake: FakeGraph | None = None) -> Iterator[tuple[SqlStore, SqlBookings, Clock]]:
    store = open_store("sqlite://")
    try:
        seed_case(store)
        yield store, SqlBookings(store.engine), Clock(NOW)
    finally:
        store.close()


def booker(store: SqlStore, bookings: SqlBookings, clock: Clock, calendar: Any) -> Booker:
    return Booker(
        store=store,
        bookings=bookings,
        calendar=calendar,
        areas=load_catalogue().areas,
        now=clock,
        hours=WorkingHours.parse("09:00-17:00"),
        organiser=ORGANISER,
    )


def graph_calendar(
    fake: FakeGraph, sleeps: Sleeps | None = None, attempts: int = 4, timeout: float = 10.0
) -> GraphCalendar:
    policy = RetryPolicy(attempts=attempts, base_delay=0.01, sleep=sleeps or Sleeps())
    return GraphCalendar(graph_client(fake, timeout=timeout), ORGANISER, policy)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)
