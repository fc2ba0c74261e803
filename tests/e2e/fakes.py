"""Fakes that speak the real wire protocols on loopback, so that the real SDK code runs against them.

Why fakes over HTTP rather than mocks: the bugs we care about live in the SDK's own code and in what
it sends (serialization of invoke bodies, URL encoding of conversation ids, error mapping), and in
token validation; a mock of the library would hide exactly those. Every server here binds 127.0.0.1
on a port chosen by the OS and runs on its own thread, so tests can drive it from sync or async code
alike, and so that the validator's blocking key fetch never waits on the test's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.e2e.threaded import ThreadedServer

JsonDict = dict[str, Any]

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
#: The body Teams sends with a 403 when the user blocked or uninstalled the bot.
BLOCKED_BODY: JsonDict = {"error": {"code": "MessageWritesBlocked", "message": "Thread is blocked from message writes"}}


# --------------------------------------------------------------------------------------------------
# Fake Teams channel (the bot's serviceUrl)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request the fake channel received, as the bot's connector sent it.

    ``kind`` is one of: send, reply, update, delete, create_conversation, get_member, get_members,
    unknown. ``status`` is what the fake answered (scripted failures included).
    """

    method: str
    path: str
    kind: str
    conversation_id: str | None
    activity_id: str | None
    member_id: str | None
    body: Any
    authorization: str | None
    status: int
    response_id: str | None

    @property
    def is_activity(self) -> bool:
        """True for requests that carry an activity to show in the chat (send, reply, update)."""
        return self.kind in ("send", "reply", "update")

    @property
    def delivered(self) -> bool:
        """An activity request that the fake accepted (2xx)."""
        return self.is_activity and 200 <= self.status < 300

    @property
    def text(self) -> str | None:
        """The activity's text, for short assertions."""
        if isinstance(self.body, dict):
            value = self.body.get("text")
            return value if isinstance(value, str) else None
        return None

    @property
    def attachments(self) -> list[JsonDict]:
        """The activity's attachments (Adaptive Cards land here)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("attachments"), list):
            return [a for a in self.body["attachments"] if isinstance(a, dict)]
        return []


@dataclass
class _Failure:
    conversation_id: str | None
    status: int
    remaining: int
    retry_after: float | str | None
    body: Any
    methods: frozenset[str] | None

    def matches(self, method: str, conversation_id: str | None) -> bool:
        if self.remaining <= 0:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self.conversation_id is None or self.conversation_id == conversation_id


@dataclass(frozen=True)
class Member:
    """A roster entry, returned by ``GET /v3/conversations/{id}/members/{userId}``."""

    user_id: str
    aad_object_id: str
    email: str
    name: str
    user_principal_name: str

    def to_json(self, tenant_id: str | None) -> JsonDict:
        given, _, surname = self.name.partition(" ")
        body: JsonDict = {
            "id": self.user_id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "email": self.email,
            "userPrincipalName": self.user_principal_name,
            "givenName": given,
            "surname": surname,
            "userRole": "user",
        }
        if tenant_id:
            body["tenantId"] = tenant_id
        return body


class FakeTeamsChannel(ThreadedServer):
    """The Bot Connector API of a Teams channel, enough for replies, proactive sends and roster lookups.

    Runs an aiohttp server on its own event loop in a background thread. Records every request with
    the ``Authorization`` header it carried (to test outgoing auth), answers ``{"id": ...}`` with
    generated ids, and can be scripted to fail (429 with Retry-After, 403 MessageWritesBlocked, 502).
    """

    name = "FakeTeamsChannel"

    def __init__(self, *, tenant_id: str | None = "tenant-1") -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._failures: list[_Failure] = []
        self._members: dict[str, Member] = {}
        self._ids = itertools.count(1)
        self.hang_seconds = 0.0

    def hang(self, seconds: float) -> None:
        """Hold every following request ``seconds`` before answering (0: answer at once again): a
        Teams endpoint that hangs."""
        self.hang_seconds = seconds

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` to put in incoming activities (with the trailing slash Teams uses)."""
        return f"http://127.0.0.1:{self.port}/"

    # -- scripting -------------------------------------------------------------------------------

    def add_member(
        self,
        user_id: str,
        aad_object_id: str,
        email: str,
        name: str,
        user_principal_name: str | None = None,
    ) -> Member:
        """Register a roster entry, found by its Teams user id or its AAD object id (as Teams does)."""
        member = Member(user_id, aad_object_id, email, name, user_principal_name or email)
        with self._lock:
            self._members[user_id] = member
            self._members[aad_object_id] = member
        return member

    def fail_next(
        self,
        conversation_id: str | None,
        status: int,
        times: int = 1,
        retry_after: float | str | None = None,
        body: Any = None,
        methods: Sequence[str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests for ``conversation_id`` (None: any) with ``status``.

        ``retry_after`` becomes a Retry-After header; ``body`` defaults to a Bot Framework error body;
        ``methods`` limits the script to, e.g., ``["PUT"]``.
        """
        if body is None:
            body = {"error": {"code": "ScriptedFailure", "message": f"scripted {status}"}}
        failure = _Failure(
            conversation_id=conversation_id,
            status=status,
            remaining=times,
            retry_after=retry_after,
            body=body,
            methods=frozenset(m.upper() for m in methods) if methods is not None else None,
        )
        with self._lock:
            self._failures.append(failure)

    # -- inspection ------------------------------------------------------------------------------

    def requests(self) -> list[Received]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._received)

    def activities(self) -> list[Received]:
        """Activities accepted so far (send, reply, update answered 2xx), in order."""
        return [r for r in self.requests() if r.delivered]

    def wait_for(
        self,
        count: int,
        timeout: float = 5.0,
        predicate: Callable[[Received], bool] | None = None,
    ) -> list[Received]:
        """Block until ``count`` requests satisfy ``predicate`` (default: accepted activities).

        Returns the matching requests; raises AssertionError listing what did arrive on timeout.
        """
        check = predicate or (lambda r: r.delivered)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                matching = [r for r in self._received if check(r)]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(r.method, r.path, r.status) for r in self._received]
                    raise AssertionError(f"expected {count} matching requests within {timeout} s; got {seen}")
                self._lock.wait(remaining)

    # -- HTTP ------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        # Conversation ids arrive percent-encoded (":" "@" ";" even "/"), so route on the raw path.
        raw_path = request.rel_url.raw_path
        parts = [unquote(p) for p in raw_path.split("/") if p]
        method = request.method.upper()
        body: Any = None
        if request.can_read_body:
            text = await request.text()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text
        kind, conversation_id, activity_id, member_id = self._classify(method, parts)
        if self.hang_seconds:
            await asyncio.sleep(self.hang_seconds)

        with self._lock:
            failure = next((f for f in self._failures if f.matches(method, conversation_id)), None)
            if failure is not None:
                failure.remaining -= 1

        status: int
        payload: Any
        headers: dict[str, str] = {}
        response_id: str | None = None
        if failure is not None:
            status, payload = failure.status, failure.body
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
        else:
            status, payload, response_id = self._answer(kind, conversation_id, activity_id, member_id, body)

        record = Received(
            method=method,
            path=raw_path,
            kind=kind,
            conversation_id=conversation_id,
            activity_id=activity_id,
            member_id=member_id,
            body=body,
            authorization=request.headers.get("Authorization"),
            status=status,
            response_id=response_id,
        )
        with self._lock:
            self._received.append(record)
            self._lock.notify_all()
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    @staticmethod
    def _classify(method: str, parts: list[str]) -> tuple[str, str | None, str | None, str | None]:
        """(kind, conversation id, activity id, member id) from the decoded path segments."""
        if len(parts) < 2 or parts[0] != "v3" or parts[1] != "conversations":
            return "unknown", None, None, None
        rest = parts[2:]
        if not rest:
            return ("create_conversation" if method == "POST" else "unknown"), None, None, None
        conversation_id = rest[0]
        if len(rest) == 2 and rest[1] == "activities" and method == "POST":
            return "send", conversation_id, None, None
        if len(rest) == 3 and rest[1] == "activities":
            kinds = {"POST": "reply", "PUT": "update", "DELETE": "delete"}
            return kinds.get(method, "unknown"), conversation_id, rest[2], None
        if len(rest) == 2 and rest[1] == "members" and method == "GET":
            return "get_members", conversation_id, None, None
        if len(rest) == 3 and rest[1] == "members" and method == "GET":
            return "get_member", conversation_id, None, rest[2]
        return "unknown", conversation_id, None, None

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}-{next(self._ids)}"

    def _answer(
        self,
        kind: str,
        conversation_id: str | None,
        activity_id: str | None,
        member_id: str | None,
        body: Any,
    ) -> tuple[int, Any, str | None]:
        if kind in ("send", "reply"):
            if isinstance(body, dict) and any(body.get(k, "") is None for k in ("id", "type", "conversation")):
                # As the Agents Playground answers a send carrying "id": null (seen with 0.2.28); the
                # SDK 1.9.0 sets activity.id = None before every send, which pydantic then writes out.
                return 400, {"error": {"code": "BadArgument", "message": "Invalid input"}}, None
            new_id = self._new_id("activity")
            return 200, {"id": new_id}, new_id
        if kind == "update":
            return 200, {"id": activity_id}, activity_id
        if kind == "delete":
            return 200, None, None
        if kind == "create_conversation":
            new_id = self._new_id("a:conversation")
            return 201, {"id": new_id, "activityId": self._new_id("activity"), "serviceUrl": self.service_url}, new_id
        if kind == "get_member":
            with self._lock:
                member = self._members.get(member_id or "")
            if member is None:
                error = {"error": {"code": "MemberNotFoundInConversation", "message": "Member not found"}}
                return 404, error, None
            return 200, member.to_json(self.tenant_id), None
        if kind == "get_members":
            with self._lock:
                unique = {m.user_id: m for m in self._members.values()}
            return 200, [m.to_json(self.tenant_id) for m in unique.values()], None
        return 404, {"error": {"code": "NotFound", "message": "no such route in the fake"}}, None


# --------------------------------------------------------------------------------------------------
# OpenID configuration and JWKS (what login.botframework.com publishes)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SigningKey:
    private_key: rsa.RSAPrivateKey
    endorsements: tuple[str, ...]


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key, e.g. to sign a token with a key nobody published."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OpenIdServer:
    """Serves ``/.well-known/openid-configuration`` and the JWKS it points to, from a thread.

    The edge's validator fetches both (blocking, on a worker thread) and keeps them for a day; every
    instance listens on a fresh port, so nothing cached leaks between tests. A key published after the
    first validation is found by the one refetch an unknown ``kid`` triggers.
    """

    def __init__(
        self,
        *,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        endorsements: Sequence[str] = ("msteams",),
    ) -> None:
        self.issuer = issuer
        self._keys: dict[str, _SigningKey] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.fetches: list[str] = []
        self.kid = self.add_key(endorsements=endorsements)

    def add_key(self, *, endorsements: Sequence[str] = ("msteams",), kid: str | None = None) -> str:
        """Publish another signing key; returns its kid (pass it to ``token``)."""
        key_id = kid or f"key-{uuid.uuid4().hex[:12]}"
        with self._lock:
            self._keys[key_id] = _SigningKey(new_rsa_key(), tuple(endorsements))
        return key_id

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("OpenIdServer already started")
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._record(self.path)
                if self.path == "/.well-known/openid-configuration":
                    self._json(owner.openid_configuration())
                elif self.path == "/keys":
                    self._json(owner.jwks())
                else:
                    self.send_error(404)

            def _json(self, payload: JsonDict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() (which waits for the next poll) fast.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="OpenIdServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, path: str) -> None:
        with self._lock:
            self.fetches.append(path)

    # -- documents -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("OpenIdServer not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def metadata_url(self) -> str:
        """What goes in ``Settings.openid_metadata_url``."""
        return f"{self.base_url}/.well-known/openid-configuration"

    def openid_configuration(self) -> JsonDict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base_url}/authorize",
            "jwks_uri": f"{self.base_url}/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def jwks(self) -> JsonDict:
        keys: list[JsonDict] = []
        with self._lock:
            items = list(self._keys.items())
        for kid, signing in items:
            jwk = RSAAlgorithm.to_jwk(signing.private_key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": "RS256", "endorsements": list(signing.endorsements)})
            keys.append(jwk)
        return {"keys": keys}

    # -- tokens ----------------------------------------------------------------------------------

    def token(
        self,
        aud: str,
        iss: str = BOT_FRAMEWORK_ISSUER,
        serviceurl: str | None = None,
        exp_in: int = 300,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """An RS256 JWT like the Bot Connector's: ``aud`` = bot app id, ``serviceurl`` claim.

        ``kid`` picks a published key (default: the first); ``key`` signs with another private key
        while keeping the ``kid`` header (a wrong signature); a negative ``exp_in`` makes it expired
        (the SDK allows 5 minutes of clock skew, so use less than -300).
        """
        key_id = kid or self.kid
        with self._lock:
            published = self._keys.get(key_id)
        signer = key or (published.private_key if published else None)
        if signer is None:
            raise KeyError(f"no key {key_id!r}: pass key= to sign with an unpublished key")
        now = int(time.time())
        claims: JsonDict = {"iss": iss, "aud": aud, "iat": now - 10, "nbf": now - 10, "exp": now + exp_in}
        if serviceurl is not None:
            claims["serviceurl"] = serviceurl
        if extra_claims:
            claims.update(extra_claims)
        return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": key_id, "typ": "JWT"})

    def bearer(self, *args: Any, **kwargs: Any) -> str:
        """``"Bearer " + token(...)``: the Authorization header value."""
        return "Bearer " + self.token(*args, **kwargs)


# --------------------------------------------------------------------------------------------------
# Outgoing credentials without MSAL
# --------------------------------------------------------------------------------------------------


class FixedTokenSource:
    """Outgoing tokens for tests with an app id set (the edge would otherwise go to MSAL): always the
    same token, and each request (audience, scopes) recorded for assertions."""

    def __init__(self, token: str = "fixed-outgoing-token") -> None:
        self.token = token
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    async def __call__(self, audience: str, scopes: list[str]) -> str:
        self.calls.append((audience, tuple(scopes)))
        return self.token


# --------------------------------------------------------------------------------------------------
# Activity builders (what Teams posts to /api/messages)
# --------------------------------------------------------------------------------------------------

BOT_ID = "28:bot-app-id"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _base_activity(
    activity_type: str,
    conversation_id: str,
    user_id: str,
    aad_object_id: str,
    service_url: str,
    tenant_id: str,
    conversation_type: str,
    *,
    user_name: str | None = None,
    bot_id: str = BOT_ID,
    activity_id: str | None = None,
    meeting_id: str | None = None,
    channel_id: str = "msteams",
) -> JsonDict:
    channel_data: JsonDict = {"tenant": {"id": tenant_id}}
    if meeting_id is not None:
        channel_data["meeting"] = {"id": meeting_id}
    return {
        "type": activity_type,
        "id": activity_id or f"incoming-{uuid.uuid4().hex[:12]}",
        "timestamp": _now_iso(),
        "localTimestamp": _now_iso(),
        "channelId": channel_id,
        "serviceUrl": service_url,
        # Teams always names the sender; tests leave it out unless they test names (issue 14).
        "from": {"id": user_id, "aadObjectId": aad_object_id, **({"name": user_name} if user_name else {})},
        "conversation": {
            "id": conversation_id,
            "conversationType": conversation_type,
            "tenantId": tenant_id,
            "isGroup": conversation_type != "personal",
        },
        "recipient": {"id": bot_id, "name": "Conference challenge bot"},
        "locale": "en-GB",
        "channelData": channel_data,
    }


def message(
    text: str,
    conversation_id: str,
    user_id: str,
    aad_object_id: str,
    service_url: str,
    tenant_id: str = "tenant-1",
    conversation_type: str = "personal",
    mentions: Sequence[tuple[str, str]] | None = None,
    *,
    user_name: str | None = None,
    bot_id: str = BOT_ID,
    activity_id: str | None = None,
    meeting_id: str | None = None,
    channel_id: str = "msteams",
) -> JsonDict:
    """A Teams message activity; ``mentions`` are (id, name) pairs, rendered as ``<at>name</at>``."""
    activity = _base_activity(
        "message",
        conversation_id,
        user_id,
        aad_object_id,
        service_url,
        tenant_id,
        conversation_type,
        user_name=user_name,
        bot_id=bot_id,
        activity_id=activity_id,
        meeting_id=meeting_id,
        channel_id=channel_id,
    )
    activity["text"] = text
    activity["textFormat"] = "plain"
    if mentions:
        activity["entities"] = [
            {"type": "mention", "mentioned": {"id": mid, "name": name}, "text": f"<at>{name}</at>"}
            for mid, name in mentions
        ]
    return activity


def invoke_adaptive_card_action(
    verb: str,
    data: Mapping[str, Any],
    conversation_id: str,
    user_id: str,
    aad_object_id: str,
    service_url: str,
    tenant_id: str = "tenant-1",
    conversation_type: str = "personal",
    *,
    reply_to_id: str | None = None,
    user_name: str | None = None,
    bot_id: str = BOT_ID,
    meeting_id: str | None = None,
) -> JsonDict:
    """The ``adaptiveCard/action`` invoke Teams sends when someone presses an Action.Execute button."""
    activity = _base_activity(
        "invoke",
        conversation_id,
        user_id,
        aad_object_id,
        service_url,
        tenant_id,
        conversation_type,
        user_name=user_name,
        bot_id=bot_id,
        meeting_id=meeting_id,
    )
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": dict(data)},
        "trigger": "manual",
    }
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity


def meeting_end(
    conversation_id: str,
    end_time: datetime | str,
    service_url: str = "http://127.0.0.1:9/",
    tenant_id: str = "tenant-1",
    *,
    meeting_id: str = "meeting-1",
    user_id: str = "29:organiser",
    aad_object_id: str = "aad-organiser",
    title: str = "Child protection conference",
    join_url: str = "https://teams.microsoft.com/l/meetup-join/fake",
    bot_id: str = BOT_ID,
) -> JsonDict:
    """The ``application/vnd.microsoft.meetingEnd`` event Teams sends to a bot in the meeting chat."""
    stamp = end_time.astimezone(UTC).isoformat().replace("+00:00", "Z") if isinstance(end_time, datetime) else end_time
    activity = _base_activity(
        "event",
        conversation_id,
        user_id,
        aad_object_id,
        service_url,
        tenant_id,
        "groupChat",
        bot_id=bot_id,
        meeting_id=meeting_id,
    )
    activity["name"] = "application/vnd.microsoft.meetingEnd"
    activity["value"] = {
        "Id": meeting_id,
        "MeetingType": "Scheduled",
        "JoinUrl": join_url,
        "Title": title,
        "EndTime": stamp,
    }
    return activity


def adaptive_card(text: str = "Hello") -> JsonDict:
    """A minimal Adaptive Card 1.5 with one TextBlock."""
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
    }


def card_activity(card: Mapping[str, Any]) -> JsonDict:
    """A message activity carrying one Adaptive Card attachment."""
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": dict(card)}]}
