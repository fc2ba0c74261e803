"""The Graph calendar adapter: the real msgraph-sdk against the fake Graph on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

from casework.booking import transaction_id
from casework.ports_graph import CalendarError, EventDraft, Invitee
from graph.graph_calendar import parse_graph_time
from tests.e2e.fake_graph import FakeGraph, lower_keys
from tests.integration.graph_world import ROOM, Sleeps, graph_calendar, utc

TID = transaction_id("CPC-42", "panel", 1)


def draft(**kw: object) -> EventDraft:
    base: dict[str, object] = dict(
        transaction_id=TID,
        reference="CPC-42",
        purpose="panel",
        title="Inter-agency complaint panel",
        start=utc(2027, 6, 14, 9),  # 10:00 BST
        end=utc(2027, 6, 14, 10, 30),
        invitees=(Invitee("a@council.example", "required", "a"), Invitee(ROOM, "resource")),
        papers=("A formal request to convene", "Notes <script>alert('x')</script> & more"),
        papers_source="Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.26",
        chair_id="a",
    )
    base.update(kw)
    return EventDraft(**base)  # type: ignore[arg-type]


@pytest.fixture()
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as f:
        yield f


def test_get_schedule_batches_twenty_mailboxes_and_splits_long_periods(fake: FakeGraph) -> None:
    people = [f"p{i}@council.example" for i in range(24)]
    fake.set_calendar("p3@council.example", [(utc(2027, 1, 5, 9), utc(2027, 1, 5, 10), "busy")])
    fake.set_calendar("p23@council.example", [(utc(2027, 2, 25, 14), utc(2027, 2, 25, 15), "oof")])
    fake.mark_unknown("p7@council.example")

    async def run() -> list:  # type: ignore[type-arg]
        cal = graph_calendar(fake)
        return await cal.get_schedules([*people, ROOM], utc(2027, 1, 4), utc(2027, 3, 1))  # 56 days

    got = asyncio.run(run())
    reqs = fake.requests("getSchedule")
    # 25 mailboxes in batches of 20 and 5; 56 days in periods of 42 and 14: four requests.
    assert sorted(len(r.body["Schedules"]) for r in reqs) == [5, 5, 20, 20]
    for r in reqs:
        assert r.status == 200
        assert r.body["StartTime"]["timeZone"] == "UTC" and r.body["EndTime"]["timeZone"] == "UTC"
        assert r.headers["prefer"] == 'outlook.timezone="UTC"'
        assert r.path.endswith("/users/panels%40council.example/calendar/getSchedule")
    by = {s.address: s for s in got}
    assert [(b.start, b.end, b.status) for b in by["p3@council.example"].busy] == [
        (utc(2027, 1, 5, 9), utc(2027, 1, 5, 10), "busy")
    ]
    assert [b.status for b in by["p23@council.example"].busy] == ["oof"]
    assert by["p7@council.example"].error == "ErrorMailRecipientNotFound"
    assert by[ROOM].busy == () and by[ROOM].error is None


def test_getschedule_429_waits_for_retry_after_and_the_sdk_does_not_retry_itself(fake: FakeGraph) -> None:
    fake.fail_next("getSchedule", 429, retry_after=7)
    fake.fail_next("getSchedule", 503)
    sleeps = Sleeps()

    async def run() -> None:
        await graph_calendar(fake, sleeps).get_schedules(["a@council.example"], utc(2027, 1, 4), utc(2027, 1, 5))

    asyncio.run(run())
    assert [r.status for r in fake.requests("getSchedule")] == [429, 503, 200]
    assert sleeps.waits[0] == 7.0  # Retry-After honoured
    assert sleeps.waits[1] == pytest.approx(0.02)  # then exponential backoff


def test_event_body_has_explicit_time_zones_teams_transaction_id_and_escaped_papers(fake: FakeGraph) -> None:
    async def run() -> object:
        return await graph_calendar(fake).create_event(draft())

    state = asyncio.run(run())
    (req,) = fake.requests("create_event")
    body = lower_keys(req.body)
    assert body["start"] == {"datetime": "2027-06-14T10:00:00", "timezone": "Europe/London"}  # BST wall clock
    assert body["end"] == {"datetime": "2027-06-14T11:30:00", "timezone": "Europe/London"}
    assert body["transactionid"] == TID and len(TID) == 36 and TID.count("-") == 4
    assert body["isonlinemeeting"] is True and body["onlinemeetingprovider"] == "teamsForBusiness"
    assert [(a["emailaddress"]["address"], a["type"]) for a in body["attendees"]] == [
        ("a@council.example", "required"),
        (ROOM, "resource"),
    ]
    html = body["body"]["content"]
    assert body["body"]["contenttype"] == "html"
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html
    assert (
        "A formal request to convene" in html
        and "Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.26" in html
    )
    assert state.join_url and state.transaction_id == TID  # type: ignore[attr-defined]
    assert state.start == utc(2027, 6, 14, 9)  # type: ignore[attr-defined]


def test_a_create_whose_answer_was_lost_is_retried_into_the_same_event(fake: FakeGraph) -> None:
    fake.fail_next("create_event", 503, after_processing=True)
    fake.fail_next("create_event", 504, after_processing=True)

    async def run() -> str:
        return (await graph_calendar(fake).create_event(draft())).event_id

    event_id = asyncio.run(run())
    assert [r.status for r in fake.requests("create_event")] == [503, 504, 201]
    assert [e.id for e in fake.live_events()] == [event_id]


def test_a_slow_create_beyond_the_timeout_is_retried_without_a_duplicate(fake: FakeGraph) -> None:
    fake.slow_next("create_event", 1.5)

    async def run() -> str:
        return (await graph_calendar(fake, timeout=0.5).create_event(draft())).event_id

    event_id = asyncio.run(run())
    assert len(fake.requests("create_event")) == 2
    assert [e.id for e in fake.live_events()] == [event_id]


def test_the_same_transaction_id_with_another_body_finds_the_existing_event(fake: FakeGraph) -> None:
    async def run() -> tuple[str, str]:
        cal = graph_calendar(fake)
        first = await cal.create_event(draft())
        again = await cal.create_event(draft(title="Inter-agency complaint panel (renamed)"))
        return first.event_id, again.event_id

    first, again = asyncio.run(run())
    assert first == again
    assert [r.status for r in fake.requests("create_event")] == [201, 400]
    assert len(fake.requests("calendar_view")) == 1 and len(fake.live_events()) == 1


def test_update_responses_cancel_and_a_deleted_event(fake: FakeGraph) -> None:
    async def run() -> None:
        cal = graph_calendar(fake)
        state = await cal.create_event(draft())
        moved = await cal.update_event(
            state.event_id, draft(start=utc(2027, 6, 15, 13), end=utc(2027, 6, 15, 14), sequence=1)
        )
        assert moved.start == utc(2027, 6, 15, 13)
        fake.respond(state.event_id, "A@council.example", "declined")
        got = await cal.get_event(state.event_id)
        assert got is not None and got.responses == {"a@council.example": "declined", ROOM: "accepted"}
        await cal.cancel_event(state.event_id, draft(), "The panel is moved.")
        got = await cal.get_event(state.event_id)
        assert got is not None and got.cancelled
        assert fake.events[state.event_id].cancel_comment == "The panel is moved."
        fake.delete_event(state.event_id)
        assert await cal.get_event(state.event_id) is None
        await cal.cancel_event(state.event_id, draft(), "")  # already gone: nothing to do

    asyncio.run(run())
    (patch,) = fake.requests("patch_event")
    assert lower_keys(patch.body)["start"] == {"datetime": "2027-06-15T14:00:00", "timezone": "Europe/London"}
    assert "transactionid" not in lower_keys(patch.body)
    assert lower_keys(fake.requests("cancel_event")[0].body) == {"comment": "The panel is moved."}


def test_no_join_url_when_the_organiser_is_not_enabled_for_teams(fake: FakeGraph) -> None:
    fake.disable_teams("panels@council.example")

    async def run() -> object:
        return await graph_calendar(fake).create_event(draft())

    assert asyncio.run(run()).join_url is None  # type: ignore[attr-defined]


def test_a_missing_permission_is_reported_with_what_to_run(fake: FakeGraph) -> None:
    from graph.graph_calendar import GraphCalendar
    from graph.retry import RetryPolicy
    from tests.integration.graph_world import ORGANISER, graph_client

    async def run() -> None:
        cal = GraphCalendar(graph_client(fake, roles=["Calendars.ReadBasic"]), ORGANISER, RetryPolicy(sleep=Sleeps()))
        await cal.get_schedules(["a@council.example"], utc(2027, 1, 4), utc(2027, 1, 5))
        await cal.create_event(draft())

    with pytest.raises(CalendarError, match=r"HTTP 403 ErrorAccessDenied.*cpc graph check"):
        asyncio.run(run())
    assert [r.status for r in fake.requests()] == [200, 403]  # not retried


def test_transient_failures_give_up_after_the_attempts_with_advice(fake: FakeGraph) -> None:
    fake.fail_next("getSchedule", 503, times=5)

    async def run() -> None:
        await graph_calendar(fake, attempts=2).get_schedules(["a@council.example"], utc(2027, 1, 4), utc(2027, 1, 5))

    with pytest.raises(CalendarError, match="try again in a few minutes"):
        asyncio.run(run())
    assert len(fake.requests("getSchedule")) == 2  # our two attempts; the SDK added none


def test_graph_times_parse_in_the_zone_they_come_in() -> None:
    assert parse_graph_time("2027-03-30T09:00:00.0000000", "GMT Standard Time") == utc(2027, 3, 30, 8)
    assert parse_graph_time("2027-01-04T09:00:00.0000000", "Europe/London") == utc(2027, 1, 4, 9)
    assert parse_graph_time("2027-01-04T09:00:00", "UTC") == utc(2027, 1, 4, 9)
    assert parse_graph_time("2027-01-04T09:00:00Z", None) == utc(2027, 1, 4, 9)
    with pytest.raises(CalendarError, match="unknown time zone"):
        parse_graph_time("2027-01-04T09:00:00", "Mars Standard Time")
    assert parse_graph_time("2027-10-31T01:30:00.1234567", "UTC") - utc(2027, 10, 31, 1, 30) < timedelta(seconds=1)
