"""A fake Microsoft Graph on loopback, driven by the real ``msgraph-sdk`` (no mocks of the SDK).

It implements what the bot uses: ``calendar/getSchedule``, events (create, get, patch, cancel,
delete, list, ``calendarView``) and ``sendMail``, under ``/v1.0/users/{id}/...``. As Graph does (and
as SDK-FACTS records) it reads request keys case-insensitively (``sendMail``, ``getSchedule`` and
``cancel`` bodies arrive PascalCase, events camelCase), decodes the ``%40`` in a UPN, honours
``Prefer: outlook.timezone`` on reads, refuses a ``dateTimeTimeZone`` without its ``timeZone``,
refuses more than 20 schedules in one request, and deduplicates creates by ``transactionId`` (the
same id and body gives back the same event; the same id with another body is
``ErrorDuplicateTransactionId``). App roles are read from the bearer token (see :class:`FakeCredential`)
and enforced per endpoint; a mailbox scope can be set, as Exchange RBAC for Applications would.

Faults are scripted per kind of request: a status (429 with ``Retry-After``, 503...) answered
before the request is processed, or after it was (the answer lost on the way back), and slow
answers. Every request is recorded. The server runs on its own thread and event loop, like
:class:`tests.e2e.fakes.FakeTeamsChannel`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from aiohttp import web
from azure.core.credentials import AccessToken

from tests.e2e.threaded import ThreadedServer

JsonDict = dict[str, Any]

ALL_ROLES = ("Calendars.ReadWrite", "Mail.Send")
READ_SCHEDULE = {"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"}
READ_EVENTS = {"Calendars.Read", "Calendars.ReadWrite"}
WRITE_EVENTS = {"Calendars.ReadWrite"}
SEND_MAIL = {"Mail.Send"}
_ZONES = {"utc": "UTC", "gmt standard time": "Europe/London", "coordinated universal time": "UTC"}
_STATUS_CODE = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingelsewhere": "4"}


def fake_token(roles: Iterable[str] = ALL_ROLES, app_id: str = "fake-app") -> str:
    """An unsigned JWT-shaped token carrying app roles (the fake trusts it; so does ``graph check``)."""

    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'roles': list(roles), 'appid': app_id})}.fake"


class FakeCredential:
    """An async azure-identity-shaped credential returning :func:`fake_token` (SDK-FACTS: fake server)."""

    def __init__(self, roles: Iterable[str] = ALL_ROLES) -> None:
        self.roles = tuple(roles)
        self.calls = 0
        self.closed = False

    async def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, enable_cae: bool = False, **kw: Any
    ) -> AccessToken:
        self.calls += 1
        return AccessToken(fake_token(self.roles), int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True


def lower_keys(obj: Any) -> Any:
    """Keys compared case-insensitively, as Graph does."""
    if isinstance(obj, dict):
        return {str(k).lower(): lower_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [lower_keys(v) for v in obj]
    return obj


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(_ZONES.get(name.strip().lower(), name.strip()))


def parse_dttz(value: Any) -> datetime:
    """A request's ``dateTimeTimeZone`` (keys already lower-cased); a missing timeZone is an error."""
    if not isinstance(value, dict) or not value.get("datetime"):
        raise _Bad("ErrorInvalidRequest", "dateTimeTimeZone needs dateTime")
    tz = value.get("timezone")
    if not tz:
        raise _Bad("ErrorInvalidTimeZone", "dateTimeTimeZone needs an explicit timeZone")
    t = datetime.fromisoformat(str(value["datetime"]).replace("Z", ""))
    if t.tzinfo is None:
        try:
            t = t.replace(tzinfo=_zone(str(tz)))
        except Exception:
            raise _Bad("ErrorInvalidTimeZone", f"unknown time zone {tz}") from None
    return t.astimezone(UTC)


def format_dttz(t: datetime, zone: str) -> JsonDict:
    local = t.astimezone(_zone(zone)).replace(tzinfo=None)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone}


class _Bad(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    kind: str
    user: str | None
    body: Any
    headers: Mapping[str, str]
    status: int
    query: Mapping[str, str]


@dataclass
class _Fault:
    kind: str
    status: int
    remaining: int
    retry_after: str | None
    after_processing: bool
    code: str


@dataclass
class _Slow:
    kind: str
    seconds: float
    remaining: int


@dataclass
class SentMail:
    user: str
    subject: str
    to: list[str]
    content_type: str
    content: str
    headers: dict[str, str]


@dataclass
class FakeEvent:
    id: str
    user: str
    transaction_id: str | None
    fingerprint: str
    subject: str
    body: JsonDict
    start: datetime
    end: datetime
    attendees: list[JsonDict]
    location: JsonDict | None
    is_online: bool
    join_url: str | None
    cancelled: bool = False
    deleted: bool = False
    cancel_comment: str | None = None
    raw_create: JsonDict = field(default_factory=dict)

    def to_json(self, zone: str) -> JsonDict:
        return {
            "id": self.id,
            "iCalUId": f"ical-{self.id}",
            "transactionId": self.transaction_id,
            "subject": self.subject,
            "body": self.body,
            "start": format_dttz(self.start, zone),
            "end": format_dttz(self.end, zone),
            "attendees": self.attendees,
            "location": self.location or {"displayName": ""},
            "isOnlineMeeting": self.is_online,
            "onlineMeetingProvider": "teamsForBusiness" if self.is_online else "unknown",
            "onlineMeeting": {"joinUrl": self.join_url} if self.join_url else None,
            "isCancelled": self.cancelled,
            "organizer": {"emailAddress": {"address": self.user}},
        }


class FakeGraph(ThreadedServer):
    """See the module docstring. ``base_url`` is what ``CPC_GRAPH_BASE_URL`` should be set to."""

    name = "FakeGraph"

    def __init__(self, *, max_schedules: int = 20, max_schedule_days: int = 62) -> None:
        super().__init__()
        self.max_schedules = max_schedules
        self.max_schedule_days = max_schedule_days
        self._lock = threading.Condition()
        self._received: list[Recorded] = []
        self._faults: list[_Fault] = []
        self._slow: list[_Slow] = []
        self._calendars: dict[str, list[tuple[datetime, datetime, str]]] = {}
        self._unknown: set[str] = set()
        self._teams_disabled: set[str] = set()
        self._scope: set[str] | None = None
        self._rbac_roles: set[str] = set()
        self.events: dict[str, FakeEvent] = {}
        self.sent: list[SentMail] = []
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1.0"

    # -- scripting -------------------------------------------------------------------------------

    def set_calendar(self, address: str, items: Iterable[tuple[datetime, datetime, str]]) -> None:
        """Busy blocks of a mailbox (start, end, Graph status), beside the events booked here."""
        with self._lock:
            self._calendars[address.lower()] = list(items)

    def mark_unknown(self, address: str) -> None:
        with self._lock:
            self._unknown.add(address.lower())

    def disable_teams(self, organiser: str) -> None:
        """Events this organiser creates get no Teams join URL (organiser not enabled for Teams)."""
        with self._lock:
            self._teams_disabled.add(organiser.lower())

    def restrict_to(self, mailboxes: Iterable[str] | None) -> None:
        """Exchange RBAC for Applications: the app may reach only these mailboxes (None: any)."""
        with self._lock:
            self._scope = None if mailboxes is None else {m.lower() for m in mailboxes}

    def grant_via_rbac(self, roles: Iterable[str]) -> None:
        """Roles Exchange grants the app (RBAC for Applications): honoured, but absent from the token."""
        with self._lock:
            self._rbac_roles = set(roles)

    def fail_next(
        self,
        kind: str,
        status: int,
        times: int = 1,
        retry_after: float | str | None = None,
        after_processing: bool = False,
        code: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests of ``kind`` with ``status``; ``after_processing`` does the
        work first (the answer is lost, as with a gateway timeout after the server acted)."""
        default = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout"}.get(status, "Scripted")
        with self._lock:
            self._faults.append(
                _Fault(
                    kind,
                    status,
                    times,
                    None if retry_after is None else str(retry_after),
                    after_processing,
                    code or default,
                )
            )

    def slow_next(self, kind: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` requests of ``kind`` after ``seconds`` (the work is done first)."""
        with self._lock:
            self._slow.append(_Slow(kind, seconds, times))

    def respond(self, event_id: str, address: str, response: str) -> None:
        """An attendee answers (accepted, declined, tentativelyAccepted)."""
        with self._lock:
            ev = self.events[event_id]
            for a in ev.attendees:
                if a["emailAddress"]["address"].lower() == address.lower():
                    a["status"] = {"response": response, "time": datetime.now(UTC).isoformat()}

    def delete_event(self, event_id: str) -> None:
        with self._lock:
            self.events[event_id].deleted = True

    # -- inspection ------------------------------------------------------------------------------

    def requests(self, kind: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self._received if kind is None or r.kind == kind]

    def live_events(self) -> list[FakeEvent]:
        with self._lock:
            return [e for e in self.events.values() if not e.deleted]

    def wait_for(self, kind: str, count: int, timeout: float = 5.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self._received if r.kind == kind]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} {kind} requests; got {len(got)}")
                self._lock.wait(left)

    # -- HTTP ------------------------------------------------------------------------------------

    @staticmethod
    def _classify(method: str, parts: list[str]) -> tuple[str, str | None, str | None]:
        if len(parts) < 3 or parts[0] != "v1.0" or parts[1].lower() != "users":
            return "unknown", None, None
        user, rest = parts[2], [p.lower() for p in parts[3:]]
        raw_rest = parts[3:]
        if rest == ["calendar", "getschedule"] and method == "POST":
            return "getSchedule", user, None
        if rest == ["events"]:
            return ("create_event" if method == "POST" else "list_events"), user, None
        if rest in (["calendarview"], ["calendar", "calendarview"]) and method == "GET":
            return "calendar_view", user, None
        if len(rest) == 2 and rest[0] == "events":
            kinds = {"GET": "get_event", "PATCH": "patch_event", "DELETE": "delete_event"}
            return kinds.get(method, "unknown"), user, raw_rest[1]
        if len(rest) == 3 and rest[0] == "events" and rest[2] == "cancel" and method == "POST":
            return "cancel_event", user, raw_rest[1]
        if rest == ["sendmail"] and method == "POST":
            return "send_mail", user, None
        return "unknown", user, None

    def _roles(self, request: web.Request) -> set[str] | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        parts = auth[7:].split(".")
        try:
            payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (IndexError, ValueError):
            return None
        return set(payload.get("roles", []))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        parts = [unquote(p) for p in request.rel_url.raw_path.split("/") if p]
        method = request.method.upper()
        kind, user, item = self._classify(method, parts)
        body: Any = None
        if request.can_read_body:
            text = await request.text()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            fault = next((f for f in self._faults if f.kind == kind and f.remaining > 0), None)
            if fault is not None:
                fault.remaining -= 1
            slow = next((s for s in self._slow if s.kind == kind and s.remaining > 0), None)
            if slow is not None:
                slow.remaining -= 1
        status: int
        payload: Any
        extra: dict[str, str] = {}
        if fault is not None and not fault.after_processing:
            status, payload = fault.status, {"error": {"code": fault.code, "message": f"scripted {fault.status}"}}
        else:
            try:
                status, payload = self._answer(kind, user, item, body, headers, request, method)
            except _Bad as bad:
                status, payload = bad.status, {"error": {"code": bad.code, "message": bad.message}}
            if fault is not None:
                status, payload = fault.status, {"error": {"code": fault.code, "message": f"scripted {fault.status}"}}
        if fault is not None and fault.retry_after is not None:
            extra["Retry-After"] = fault.retry_after
        record = Recorded(method, request.rel_url.raw_path, kind, user, body, headers, status, dict(request.query))
        with self._lock:
            self._received.append(record)
            self._lock.notify_all()
        if slow is not None:
            await asyncio.sleep(slow.seconds)
        if payload is None:
            return web.Response(status=status, headers=extra)
        return web.json_response(payload, status=status, headers=extra)

    def _answer(
        self,
        kind: str,
        user: str | None,
        item: str | None,
        body: Any,
        headers: Mapping[str, str],
        request: web.Request,
        method: str,
    ) -> tuple[int, Any]:
        roles = self._roles(request)
        if roles is None:
            raise _Bad("InvalidAuthenticationToken", "Access token is empty.", 401)
        need = {
            "getSchedule": READ_SCHEDULE,
            "create_event": WRITE_EVENTS,
            "patch_event": WRITE_EVENTS,
            "cancel_event": WRITE_EVENTS,
            "delete_event": WRITE_EVENTS,
            "get_event": READ_EVENTS,
            "list_events": READ_EVENTS,
            "calendar_view": READ_EVENTS,
            "send_mail": SEND_MAIL,
        }.get(kind)
        if need is None or user is None:
            raise _Bad("BadRequest", f"unsupported request {method} {request.rel_url.raw_path}", 400)
        with self._lock:
            roles = roles | self._rbac_roles
        if not roles & need:
            raise _Bad("ErrorAccessDenied", "Access is denied. Check credentials and try again.", 403)
        with self._lock:
            scope = self._scope
        if scope is not None and user.lower() not in scope:
            raise _Bad("ErrorAccessDenied", "Access to OData is disabled: the mailbox is outside the app's scope.", 403)
        zone = self._prefer_zone(headers)
        b = lower_keys(body) if isinstance(body, dict) else {}
        with self._lock:
            if kind == "getSchedule":
                return 200, self._get_schedule(b, zone)
            if kind == "create_event":
                return self._create(user, b, body, zone)
            if kind == "calendar_view" or kind == "list_events":
                return 200, self._list(user, dict(request.query), zone, kind == "calendar_view")
            if kind == "send_mail":
                return self._send_mail(user, b)
            assert item is not None
            ev = self.events.get(item)
            if ev is None or ev.deleted or ev.user.lower() != user.lower():
                raise _Bad("ErrorItemNotFound", "The specified object was not found in the store.", 404)
            if kind == "get_event":
                return 200, ev.to_json(zone)
            if kind == "patch_event":
                self._patch(ev, b)
                return 200, ev.to_json(zone)
            if kind == "cancel_event":
                ev.cancelled = True
                ev.cancel_comment = b.get("comment")
                return 202, None
            ev.deleted = True
            return 204, None

    @staticmethod
    def _prefer_zone(headers: Mapping[str, str]) -> str:
        prefer = headers.get("prefer", "")
        for piece in prefer.split(","):
            name, _, value = piece.strip().partition("=")
            if name.strip().lower() == "outlook.timezone":
                return value.strip().strip('"') or "UTC"
        return "UTC"

    # -- endpoints (called with the lock held) ---------------------------------------------------

    def _busy_items(self, address: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
        a = address.lower()
        items = [x for x in self._calendars.get(a, []) if x[0] < end and x[1] > start]
        for ev in self.events.values():
            if ev.deleted or ev.cancelled or not (ev.start < end and ev.end > start):
                continue
            if ev.user.lower() == a:
                items.append((ev.start, ev.end, "busy"))
                continue
            for att in ev.attendees:
                if att["emailAddress"]["address"].lower() != a:
                    continue
                response = att.get("status", {}).get("response", "none")
                if response == "declined":
                    continue
                items.append((ev.start, ev.end, "busy" if response == "accepted" else "tentative"))
        return sorted(items)

    def _get_schedule(self, b: JsonDict, zone: str) -> JsonDict:
        schedules = b.get("schedules")
        if not isinstance(schedules, list) or not schedules:
            raise _Bad("ErrorInvalidRequest", "Schedules is required")
        if len(schedules) > self.max_schedules:
            raise _Bad("ErrorInvalidRequest", f"at most {self.max_schedules} schedules per request")
        start, end = parse_dttz(b.get("starttime")), parse_dttz(b.get("endtime"))
        if end <= start or end - start > timedelta(days=self.max_schedule_days):
            raise _Bad("ErrorInvalidRequest", f"the period must be positive and at most {self.max_schedule_days} days")
        interval = int(b.get("availabilityviewinterval") or 30)
        out = []
        for address in schedules:
            if str(address).lower() in self._unknown:
                out.append(
                    {
                        "scheduleId": address,
                        "availabilityView": "",
                        "error": {"message": "not found", "responseCode": "ErrorMailRecipientNotFound"},
                    }
                )
                continue
            items = self._busy_items(str(address), start, end)
            view = []
            t = start
            while t < end:
                u = t + timedelta(minutes=interval)
                codes = [_STATUS_CODE.get(s.lower(), "2") for s0, e0, s in items if s0 < u and e0 > t]
                view.append(max(codes) if codes else "0")
                t = u
            out.append(
                {
                    "scheduleId": address,
                    "availabilityView": "".join(view),
                    "scheduleItems": [
                        {"status": s, "isPrivate": False, "start": format_dttz(s0, zone), "end": format_dttz(e0, zone)}
                        for s0, e0, s in items
                    ],
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "09:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": "GMT Standard Time"},
                    },
                }
            )
        return {"value": out}

    def _attendees(self, raw: Any) -> list[JsonDict]:
        out = []
        for a in raw or []:
            address = a.get("emailaddress", {}).get("address")
            kind = (a.get("type") or "required").lower()
            out.append(
                {
                    "type": kind,
                    "emailAddress": {"address": address, "name": a.get("emailaddress", {}).get("name") or address},
                    "status": {
                        "response": "accepted" if kind == "resource" else "none",
                        "time": "0001-01-01T00:00:00Z",
                    },
                }
            )
        return out

    def _create(self, user: str, b: JsonDict, raw: Any, zone: str) -> tuple[int, Any]:
        tid = b.get("transactionid")
        fingerprint = json.dumps(b, sort_keys=True)
        if tid:
            for ev in self.events.values():
                if ev.user.lower() == user.lower() and ev.transaction_id == tid:
                    if ev.fingerprint != fingerprint:
                        raise _Bad(
                            "ErrorDuplicateTransactionId", "A request with this transactionId was already processed"
                        )
                    return 201, ev.to_json(zone)
        start, end = parse_dttz(b.get("start")), parse_dttz(b.get("end"))
        if end <= start:
            raise _Bad("ErrorInvalidRequest", "end before start")
        online = bool(b.get("isonlinemeeting"))
        eid = f"AAMk-{next(self._ids)}"
        join = None
        if online and user.lower() not in self._teams_disabled:
            join = f"https://teams.example.invalid/l/meetup-join/{eid}"
        body = b.get("body") or {}
        ev = FakeEvent(
            id=eid,
            user=user,
            transaction_id=tid,
            fingerprint=fingerprint,
            subject=str(b.get("subject") or ""),
            body={"contentType": body.get("contenttype", "text"), "content": body.get("content", "")},
            start=start,
            end=end,
            attendees=self._attendees(b.get("attendees")),
            location={"displayName": (b.get("location") or {}).get("displayname", "")},
            is_online=online,
            join_url=join,
            raw_create=raw if isinstance(raw, dict) else {},
        )
        self.events[eid] = ev
        return 201, ev.to_json(zone)

    def _patch(self, ev: FakeEvent, b: JsonDict) -> None:
        moved = False
        if "start" in b:
            s = parse_dttz(b["start"])
            moved = moved or s != ev.start
            ev.start = s
        if "end" in b:
            e = parse_dttz(b["end"])
            moved = moved or e != ev.end
            ev.end = e
        if "subject" in b:
            ev.subject = str(b["subject"])
        if "body" in b:
            ev.body = {"contentType": b["body"].get("contenttype", "text"), "content": b["body"].get("content", "")}
        if "attendees" in b:
            old = {a["emailAddress"]["address"].lower(): a for a in ev.attendees}
            new = self._attendees(b["attendees"])
            for a in new:
                prev = old.get(a["emailAddress"]["address"].lower())
                if prev is not None and not moved:
                    a["status"] = prev["status"]
            ev.attendees = new
        elif moved:
            for a in ev.attendees:
                if a["type"] != "resource":
                    a["status"] = {"response": "none", "time": "0001-01-01T00:00:00Z"}
        if "location" in b:
            ev.location = {"displayName": (b["location"] or {}).get("displayname", "")}

    def _list(self, user: str, query: Mapping[str, str], zone: str, view: bool) -> JsonDict:
        events = [e for e in self.events.values() if e.user.lower() == user.lower() and not e.deleted]
        if view:
            try:
                s = datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
                e = datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
            except KeyError:
                raise _Bad("ErrorInvalidParameter", "startDateTime and endDateTime are required") from None
            if s.tzinfo is None:
                s = s.replace(tzinfo=UTC)
            if e.tzinfo is None:
                e = e.replace(tzinfo=UTC)
            events = [x for x in events if x.start < e and x.end > s]
        top = int(query.get("$top", "100"))
        return {"value": [x.to_json(zone) for x in sorted(events, key=lambda x: x.start)[:top]]}

    def _send_mail(self, user: str, b: JsonDict) -> tuple[int, Any]:
        msg = b.get("message")
        if not isinstance(msg, dict):
            raise _Bad("ErrorInvalidRequest", "Message is required")
        to = [r.get("emailaddress", {}).get("address") for r in msg.get("torecipients") or []]
        if not to:
            raise _Bad("ErrorInvalidRecipients", "At least one recipient is required")
        body = msg.get("body") or {}
        hdrs = {h.get("name", "").lower(): h.get("value", "") for h in msg.get("internetmessageheaders") or []}
        self.sent.append(
            SentMail(
                user, str(msg.get("subject") or ""), to, body.get("contenttype", "text"), body.get("content", ""), hdrs
            )
        )
        return 202, None
