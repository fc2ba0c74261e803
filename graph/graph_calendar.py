"""The calendar port on Microsoft Graph: ``getSchedule`` for availability, events in the organiser's calendar.

* ``findMeetingTimes`` does not support application permissions, so availability is read with
  ``users/{organiser}/calendar/getSchedule`` and the slots are computed by :mod:`casework.slots`.
  Requests are split into batches of at most 20 mailboxes and periods of at most 42 days.
* Every ``dateTimeTimeZone`` sent carries an explicit ``timeZone`` (UTC for ``getSchedule``,
  Europe/London for events); responses are asked for in UTC with ``Prefer: outlook.timezone="UTC"``
  and parsed honouring the zone they come back in (SDK-FACTS: time zones).
* Events are created with a deterministic ``transactionId``: a create retried after a lost answer
  gets the same event back. If Graph answers ``ErrorDuplicateTransactionId`` (the same id with a
  different body), the event is found by its transactionId in the organiser's calendar view.
* The SDK's own retry is off (:func:`graph.retry.no_sdk_retry`); :class:`graph.retry.RetryPolicy`
  retries transient failures, honouring Retry-After. Logs carry statuses and ids, never addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casework.ports_graph import CalendarError, EventDraft, EventState, Schedule
from casework.slots import Busy, normalise_status
from graph.retry import RetryPolicy, describe, error_code, no_sdk_retry, status_of
from graph.templates import event_body_html

log = logging.getLogger("cpc.graph")

#: Mailboxes per getSchedule request (Graph's limit per request).
SCHEDULE_BATCH = 20
#: Longest period per getSchedule request; longer ones are split.
SCHEDULE_MAX_DAYS = 42
#: Minutes per availabilityView character (we read scheduleItems; the view is not used).
AVAILABILITY_INTERVAL = 15
EVENT_TIME_ZONE = "Europe/London"
PREFER_UTC = {"Prefer": 'outlook.timezone="UTC"'}
EVENT_SELECT = ["id", "transactionId", "start", "end", "attendees", "onlineMeeting", "isCancelled"]

# Windows zone names Graph may answer with when a mailbox's own zone leaks through.
_WINDOWS_ZONES = {
    "utc": "UTC",
    "coordinated universal time": "UTC",
    "gmt standard time": "Europe/London",
    "greenwich standard time": "Atlantic/Reykjavik",
    "w. europe standard time": "Europe/Berlin",
    "romance standard time": "Europe/Paris",
    "central europe standard time": "Europe/Budapest",
    "eastern standard time": "America/New_York",
    "pacific standard time": "America/Los_Angeles",
}


def to_graph_utc(t: datetime) -> Any:
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone

    return DateTimeTimeZone(
        date_time=t.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds"), time_zone="UTC"
    )


def to_graph_london(t: datetime) -> Any:
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone

    local = t.astimezone(ZoneInfo(EVENT_TIME_ZONE)).replace(tzinfo=None)
    return DateTimeTimeZone(date_time=local.isoformat(timespec="seconds"), time_zone=EVENT_TIME_ZONE)


def parse_graph_time(date_time: str | None, time_zone: str | None) -> datetime:
    """A Graph ``dateTimeTimeZone`` as an aware datetime (seven fractional digits are accepted)."""
    if not date_time:
        raise CalendarError("Microsoft Graph returned a time without a value")
    raw = date_time.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    if "." in raw:
        head, _, frac = raw.partition(".")
        digits = "".join(ch for ch in frac if ch.isdigit())
        rest = frac[len(digits) :]
        raw = f"{head}.{(digits + '000000')[:6]}{rest}"
    t = datetime.fromisoformat(raw)
    if t.tzinfo is not None:
        return t
    name = (time_zone or "UTC").strip()
    zone_name = _WINDOWS_ZONES.get(name.lower(), name)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"Microsoft Graph returned a time in an unknown time zone {name!r}") from None
    return t.replace(tzinfo=zone)


def _periods(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    cur = start
    step = timedelta(days=SCHEDULE_MAX_DAYS)
    while cur < end:
        nxt = min(end, cur + step)
        out.append((cur, nxt))
        cur = nxt
    return out


class GraphCalendar:
    """``Calendar`` over ``msgraph-sdk``: ``client`` is a ``GraphServiceClient`` (see :mod:`graph.client`)."""

    def __init__(self, client: Any, organiser: str, retry: RetryPolicy | None = None) -> None:
        if not organiser:
            raise CalendarError("set CPC_ORGANISER_MAILBOX: the mailbox whose calendar holds the bookings")
        self.client = client
        self.organiser = organiser
        self.retry = retry or RetryPolicy()

    @property
    def limitation(self) -> str | None:
        return None

    def _user(self) -> Any:
        return self.client.users.by_user_id(self.organiser)

    def _fail(self, what: str, exc: Exception) -> CalendarError:
        log.error("graph %s failed: %s", what, describe(exc))
        status = status_of(exc)
        hint = ""
        if status == 403:
            hint = ": the app lacks the permission or the mailbox is outside its Exchange scope (run 'cpc graph check')"
        elif status in (429, 503, 504) or status is None:
            hint = ": Microsoft Graph is busy or unreachable; try again in a few minutes"
        return CalendarError(f"Microsoft Graph {what} failed ({describe(exc)}){hint}")

    # -- availability ---------------------------------------------------------------------------

    async def get_schedules(self, addresses: Sequence[str], start: datetime, end: datetime) -> list[Schedule]:
        from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
            GetSchedulePostRequestBody,
        )

        busy: dict[str, list[Busy]] = {a.lower(): [] for a in addresses}
        errors: dict[str, str] = {}
        unique = list(dict.fromkeys(addresses))
        for p_start, p_end in _periods(start, end):
            for i in range(0, len(unique), SCHEDULE_BATCH):
                batch = unique[i : i + SCHEDULE_BATCH]
                body = GetSchedulePostRequestBody(
                    schedules=list(batch),
                    start_time=to_graph_utc(p_start),
                    end_time=to_graph_utc(p_end),
                    availability_view_interval=AVAILABILITY_INTERVAL,
                )

                async def call(body: Any = body) -> Any:
                    return await self._user().calendar.get_schedule.post(
                        body, request_configuration=no_sdk_retry(PREFER_UTC)
                    )

                try:
                    resp = await self.retry.run("getSchedule", call)
                except Exception as exc:
                    raise self._fail("getSchedule", exc) from exc
                for info in (resp.value if resp is not None else None) or []:
                    key = (info.schedule_id or "").lower()
                    if key not in busy:
                        continue
                    if info.error is not None:
                        errors[key] = info.error.response_code or info.error.message or "unavailable"
                        continue
                    for item in info.schedule_items or []:
                        status = item.status.value if item.status is not None else None
                        s = parse_graph_time(item.start.date_time, item.start.time_zone)
                        e = parse_graph_time(item.end.date_time, item.end.time_zone)
                        busy[key].append(Busy(s, e, normalise_status(status)))
        return [Schedule(a, tuple(busy[a.lower()]), errors.get(a.lower())) for a in addresses]

    # -- events ---------------------------------------------------------------------------------

    def _event(self, draft: EventDraft, create: bool) -> Any:
        from msgraph.generated.models.attendee import Attendee
        from msgraph.generated.models.attendee_type import AttendeeType
        from msgraph.generated.models.body_type import BodyType
        from msgraph.generated.models.email_address import EmailAddress
        from msgraph.generated.models.event import Event
        from msgraph.generated.models.item_body import ItemBody
        from msgraph.generated.models.location import Location
        from msgraph.generated.models.location_type import LocationType
        from msgraph.generated.models.online_meeting_provider_type import OnlineMeetingProviderType

        kinds = {
            "required": AttendeeType.Required,
            "optional": AttendeeType.Optional,
            "resource": AttendeeType.Resource,
        }
        ev = Event(
            subject=draft.subject,
            body=ItemBody(content_type=BodyType.Html, content=event_body_html(draft)),
            start=to_graph_london(draft.start),
            end=to_graph_london(draft.end),
            attendees=[
                Attendee(email_address=EmailAddress(address=i.email), type=kinds.get(i.kind, AttendeeType.Required))
                for i in draft.invitees
            ],
            allow_new_time_proposals=False,
        )
        room = draft.room
        if room is not None:
            ev.location = Location(
                display_name=room.email, location_email_address=room.email, location_type=LocationType.ConferenceRoom
            )
        if create:
            ev.transaction_id = draft.transaction_id
            if draft.online:
                ev.is_online_meeting = True
                ev.online_meeting_provider = OnlineMeetingProviderType.TeamsForBusiness
        return ev

    @staticmethod
    def _state(ev: Any) -> EventState:
        responses: dict[str, str] = {}
        for a in ev.attendees or []:
            address = a.email_address.address if a.email_address is not None else None
            if not address:
                continue
            r = a.status.response if a.status is not None else None
            responses[address.lower()] = r.value if r is not None else "none"
        join = ev.online_meeting.join_url if ev.online_meeting is not None else None
        return EventState(
            event_id=ev.id,
            transaction_id=ev.transaction_id,
            start=parse_graph_time(ev.start.date_time, ev.start.time_zone),
            end=parse_graph_time(ev.end.date_time, ev.end.time_zone),
            join_url=join or None,
            responses=responses,
            cancelled=bool(ev.is_cancelled),
        )

    async def create_event(self, draft: EventDraft) -> EventState:
        body = self._event(draft, create=True)

        async def call() -> Any:
            return await self._user().events.post(body, request_configuration=no_sdk_retry(PREFER_UTC))

        try:
            ev = await self.retry.run("create event", call)
        except Exception as exc:
            if error_code(exc) == "ErrorDuplicateTransactionId":
                found = await self.find_by_transaction(draft.transaction_id, draft.start, draft.end)
                if found is not None:
                    log.info(
                        "graph create event: transaction %s already booked as %s", draft.transaction_id, found.event_id
                    )
                    return found
            raise self._fail("create event", exc) from exc
        if ev is None:
            raise CalendarError("Microsoft Graph created the event but returned no body; look for slots again")
        state = self._state(ev)
        if draft.online and state.join_url is None:
            log.warning("graph create event: no Teams join URL for transaction %s", draft.transaction_id)
        return state

    async def find_by_transaction(self, transaction_id: str, start: datetime, end: datetime) -> EventState | None:
        """The organiser's event with this transactionId, looked for around its time."""
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph.generated.users.item.calendar_view.calendar_view_request_builder import (
            CalendarViewRequestBuilder,
        )

        query = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
            start_date_time=(start - timedelta(days=1)).astimezone(UTC).isoformat(timespec="seconds"),
            end_date_time=(end + timedelta(days=1)).astimezone(UTC).isoformat(timespec="seconds"),
            select=EVENT_SELECT,
            top=100,
        )
        config: Any = RequestConfiguration(query_parameters=query, options=[RetryHandlerOption(max_retries=0)])
        config.headers.add("Prefer", PREFER_UTC["Prefer"])

        async def call() -> Any:
            return await self._user().calendar_view.get(request_configuration=config)

        try:
            page = await self.retry.run("calendar view", call)
        except Exception as exc:
            raise self._fail("calendar view", exc) from exc
        for ev in (page.value if page is not None else None) or []:
            if ev.transaction_id == transaction_id:
                return self._state(ev)
        return None

    async def update_event(self, event_id: str, draft: EventDraft) -> EventState:
        body = self._event(draft, create=False)

        async def call() -> Any:
            return (
                await self._user()
                .events.by_event_id(event_id)
                .patch(body, request_configuration=no_sdk_retry(PREFER_UTC))
            )

        try:
            ev = await self.retry.run("update event", call)
        except Exception as exc:
            raise self._fail("update event", exc) from exc
        if ev is None:
            got = await self.get_event(event_id)
            if got is None:
                raise CalendarError("the event is no longer in the organiser's calendar; book it again")
            return got
        return self._state(ev)

    async def cancel_event(self, event_id: str, draft: EventDraft, comment: str) -> None:
        from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import CancelPostRequestBody

        body = CancelPostRequestBody(comment=comment or f"{draft.subject} is cancelled.")

        async def call() -> Any:
            return (
                await self._user().events.by_event_id(event_id).cancel.post(body, request_configuration=no_sdk_retry())
            )

        try:
            await self.retry.run("cancel event", call)
        except Exception as exc:
            if status_of(exc) == 404:
                return  # already gone: cancelling is done
            raise self._fail("cancel event", exc) from exc

    async def get_event(self, event_id: str) -> EventState | None:
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph.generated.users.item.events.item.event_item_request_builder import EventItemRequestBuilder

        query = EventItemRequestBuilder.EventItemRequestBuilderGetQueryParameters(select=EVENT_SELECT)
        config: Any = RequestConfiguration(query_parameters=query, options=[RetryHandlerOption(max_retries=0)])
        config.headers.add("Prefer", PREFER_UTC["Prefer"])

        async def call() -> Any:
            return await self._user().events.by_event_id(event_id).get(request_configuration=config)

        try:
            ev = await self.retry.run("get event", call)
        except Exception as exc:
            if status_of(exc) == 404 or error_code(exc) == "ErrorItemNotFound":
                return None
            raise self._fail("get event", exc) from exc
        return None if ev is None else self._state(ev)
