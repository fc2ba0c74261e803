"""The Teams edge over real HTTP: real token validation against a local JWKS, the real Agents SDK, fake Teams.

A minimal aiohttp app is built here from the gate (:mod:`bot.gate`), ``make_adapter`` and ``process``
only, with a trivial echo agent on the SDK's ``AgentApplication``, so that these tests pin the edge's
contract rather than the real app's routing. Each 401 case is counted in the test output.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import importlib.metadata
import importlib.util
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from microsoft_agents.hosting.core import AgentApplication, ApplicationOptions, MemoryStorage, TurnState

from app.settings import Settings
from bot import edge
from bot.edge_client import call_timeout
from bot.gate import Gate, Refused
from tests.e2e import fakes

APP_ID = "00000000-0000-0000-0000-0000000b07a1"
CONVERSATION = "a:1xYz/personal;chat@thread.v2"  # characters Teams percent-encodes
USER_ID = "29:1user"
AAD_ID = "aad-0001"
OUTGOING_TOKEN = "fixed-outgoing-token"

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Each test drives its own event loop: no async plugin needed, nothing shared between tests."""
    return asyncio.run(coro)


async def closing(adapter: edge.CloudAdapter, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``, then close the adapter's kept clients and pool, as the app's cleanup does."""
    try:
        return await coro
    finally:
        await edge.close(adapter)


class _NoSignIn:
    def _refuse(self, *_a: Any, **_k: Any) -> Any:
        raise RuntimeError("no sign-in in these tests")

    get_connection = get_default_connection = get_token_provider = _refuse
    get_token_provider_from_activity = get_default_connection_configuration = _refuse


class EchoAgent:
    """Echoes messages; answers card actions; records every turn so tests can see it never ran."""

    def __init__(self) -> None:
        self.turns: list[str] = []
        self.references: list[str] = []
        self.events: list[tuple[str | None, Any]] = []
        app: AgentApplication[TurnState] = AgentApplication(
            ApplicationOptions(storage=MemoryStorage(), start_typing_timer=False),
            connection_manager=_NoSignIn(),
        )

        @app.activity("message")
        async def on_message(context: edge.TurnContext, _state: TurnState) -> None:
            text = context.activity.text or ""
            self.turns.append(text)
            self.references.append(edge.reference_to_json(context.activity))
            if text.startswith("whois "):
                email = await edge.member_email(context, text.removeprefix("whois "))
                await context.send_activity(edge.text_activity(f"email: {email}"))
            else:
                await context.send_activity(edge.text_activity(f"echo: {text}"))

        @app.activity("event")
        async def on_event(context: edge.TurnContext, _state: TurnState) -> None:
            self.turns.append(f"event:{context.activity.name}")
            self.events.append((context.activity.name, context.activity.value))

        @app.adaptive_card.action_execute("refresh")
        async def refresh(context: edge.TurnContext, _state: TurnState, data: Any) -> Any:
            self.turns.append("invoke:refresh")
            return edge.adaptive_card_response(fakes.adaptive_card(f"case {data['case']}"))

        @app.adaptive_card.action_execute("acknowledge")
        async def acknowledge(context: edge.TurnContext, _state: TurnState, data: Any) -> Any:
            self.turns.append("invoke:acknowledge")
            return edge.message_response("noted acknowledge")

        self.app = app

    async def on_turn(self, context: edge.TurnContext) -> None:
        await self.app.on_turn(context)


@dataclass
class BotApp:
    url: str
    adapter: edge.CloudAdapter
    bot: EchoAgent = field(repr=False)


@asynccontextmanager
async def serve_bot(settings: Settings, token_source: Any = None) -> AsyncIterator[BotApp]:
    """``/api/messages`` on loopback, written against bot/gate.py and bot/edge.py only."""
    adapter = edge.make_adapter(settings, token_source)
    gate = Gate.from_settings(settings)
    bot = EchoAgent()

    async def messages(request: web.Request) -> web.Response:
        try:
            activity, identity = await gate.admit(request)
        except Refused as refused:
            return refused.response()
        response = await edge.process(adapter, identity, activity, bot.on_turn)
        if response is None:
            return web.Response(status=200)
        status, body = edge.invoke_response_json(response)
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        yield BotApp(f"http://127.0.0.1:{port}/api/messages", adapter, bot)
    finally:
        await edge.close(adapter)
        await runner.cleanup()


async def post(url: str, body: dict[str, Any], authorization: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as resp:
        payload = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, payload


def auth_settings(openid: fakes.OpenIdServer, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "app_id": APP_ID,
        "app_password": "",
        "app_type": "MultiTenant",
        "openid_metadata_url": openid.metadata_url,
        "token_issuer": fakes.BOT_FRAMEWORK_ISSUER,
        "allowed_tenants": "tenant-1",
        "teams_service_hosts": "127.0.0.1",
    }
    return Settings(**(values | extra))


@pytest.fixture
def channel() -> Iterator[fakes.FakeTeamsChannel]:
    with fakes.FakeTeamsChannel() as ch:
        yield ch


@pytest.fixture
def openid() -> Iterator[fakes.OpenIdServer]:
    with fakes.OpenIdServer() as server:
        yield server


def incoming(channel: fakes.FakeTeamsChannel, text: str = "hi") -> dict[str, Any]:
    return fakes.message(text, CONVERSATION, USER_ID, AAD_ID, channel.service_url)


# --------------------------------------------------------------------------------------------------
# Incoming auth
# --------------------------------------------------------------------------------------------------


def test_valid_token_runs_the_turn_and_the_reply_carries_the_outgoing_token(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    source = fakes.FixedTokenSource(OUTGOING_TOKEN)

    async def scenario() -> list[int]:
        async with serve_bot(auth_settings(openid), source) as app:
            statuses = []
            for text in ("hi", "again"):
                token = openid.bearer(APP_ID, serviceurl=channel.service_url)
                status, _ = await post(app.url, incoming(channel, text), token)
                statuses.append(status)
            assert app.bot.turns == ["hi", "again"]
            return statuses

    assert run(scenario()) == [200, 200]
    replies = channel.wait_for(2)
    assert [r.text for r in replies] == ["echo: hi", "echo: again"]
    assert all(r.kind == "reply" and r.conversation_id == CONVERSATION for r in replies)
    assert all(r.authorization == f"Bearer {OUTGOING_TOKEN}" for r in replies)
    # Outgoing tokens are asked for the Bot Connector's audience and scope.
    assert set(source.calls) == {("https://api.botframework.com", ("https://api.botframework.com/.default",))}
    # Metadata and keys are fetched once and then cached.
    assert openid.fetches == ["/.well-known/openid-configuration", "/keys"]


HeaderFor = Callable[[fakes.OpenIdServer, str], str | None]

BAD_HEADERS: dict[str, HeaderFor] = {
    "missing": lambda oid, url: None,
    "empty": lambda oid, url: "",
    "bearer without token": lambda oid, url: "Bearer",
    "not bearer": lambda oid, url: "Basic dXNlcjpwYXNz",
    "malformed": lambda oid, url: "Bearer not-a-jwt",
    "expired": lambda oid, url: oid.bearer(APP_ID, serviceurl=url, exp_in=-900),
    "wrong signature": lambda oid, url: oid.bearer(APP_ID, serviceurl=url, key=fakes.new_rsa_key()),
    "unknown kid": lambda oid, url: oid.bearer(APP_ID, serviceurl=url, kid="k9", key=fakes.new_rsa_key()),
    "wrong audience": lambda oid, url: oid.bearer("someone-else", serviceurl=url),
    "wrong issuer": lambda oid, url: oid.bearer(APP_ID, iss="https://issuer.example", serviceurl=url),
    "key not endorsed for msteams": lambda oid, url: oid.bearer(
        APP_ID, serviceurl=url, kid=oid.add_key(endorsements=["webchat"])
    ),
    "no serviceurl claim": lambda oid, url: oid.bearer(APP_ID),
    "wrong serviceurl claim": lambda oid, url: oid.bearer(APP_ID, serviceurl="https://attacker.example/"),
    # The SDK compares serviceurl by host only: another port on the same host is refused here.
    "serviceurl on another port of the host": lambda oid, url: oid.bearer(
        APP_ID, serviceurl=url.replace("127.0.0.1:", "127.0.0.1:1").rstrip("/") + "/"
    ),
    "alg none": lambda oid, url: "Bearer " + _unsigned(oid, url),
    "HS256 signed with the public key": lambda oid, url: "Bearer " + _hs256_with_public_key(oid, url),
    "token for another tenant's channel (tid claim)": lambda oid, url: oid.bearer(
        APP_ID, serviceurl=url, iss="https://login.microsoftonline.com/tenant-2/v2.0", extra_claims={"tid": "tenant-2"}
    ),
}


def _claims(url: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": fakes.BOT_FRAMEWORK_ISSUER, "aud": APP_ID, "serviceurl": url, "nbf": now - 10, "exp": now + 300}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(oid: fakes.OpenIdServer, url: str) -> str:
    """``alg: none`` with the published kid and an empty signature (what PyJWT refuses to make)."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": oid.kid}).encode())
    return f"{header}.{_b64(json.dumps(_claims(url)).encode())}."


def _hs256_with_public_key(oid: fakes.OpenIdServer, url: str) -> str:
    """The classic confusion attack: HMAC-sign with the *public* key's PEM as the secret."""
    import hashlib
    import hmac

    jwks = oid.jwks()["keys"][0]
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwks))
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[union-attr]
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": oid.kid}).encode())
    body = _b64(json.dumps(_claims(url)).encode())
    signature = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


@pytest.mark.parametrize("case", list(BAD_HEADERS))
def test_every_bad_token_is_401_and_the_bot_never_runs(
    case: str, channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    header = BAD_HEADERS[case](openid, channel.service_url)

    async def scenario() -> tuple[int, list[str]]:
        async with serve_bot(auth_settings(openid), fakes.FixedTokenSource()) as app:
            status, _ = await post(app.url, incoming(channel), header)
            return status, app.bot.turns

    status, turns = run(scenario())
    print(f"401 case {case!r}: HTTP {status}")  # the count of 401s shows in the test output (-rA or -s)
    assert status == 401
    assert turns == []
    assert channel.requests() == []


def test_another_tenants_activity_is_refused_with_a_valid_token(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    """A valid channel token does not make another tenant's activity ours: 403, the agent never runs."""
    body = fakes.message("hi", CONVERSATION, USER_ID, AAD_ID, channel.service_url, tenant_id="tenant-evil")

    async def scenario() -> tuple[int, list[str]]:
        async with serve_bot(auth_settings(openid), fakes.FixedTokenSource()) as app:
            status, _ = await post(app.url, body, openid.bearer(APP_ID, serviceurl=channel.service_url))
            return status, app.bot.turns

    assert run(scenario()) == (403, [])
    assert channel.requests() == []


def test_unknown_kid_fetches_the_keys_again_once_then_refuses(channel: fakes.FakeTeamsChannel) -> None:
    """A rotated key is found by one refetch; an unknown kid costs one refetch and is refused."""
    with fakes.OpenIdServer() as oid:
        validator = edge.make_validator(auth_settings(oid))
        assert validator is not None
        validator.refresh_cooldown = 0.0  # each unknown kid may refetch (production waits 30 s between)

        async def scenario() -> None:
            await validator.validate(oid.bearer(APP_ID, serviceurl=channel.service_url))
            assert oid.fetches == ["/.well-known/openid-configuration", "/keys"]
            rotated = oid.add_key()  # published after the keys were cached
            await validator.validate(oid.bearer(APP_ID, serviceurl=channel.service_url, kid=rotated))
            assert oid.fetches[2:] == ["/keys"]
            with pytest.raises(edge.Unauthorized, match="unknown signing key"):
                await validator.validate(
                    oid.bearer(APP_ID, serviceurl=channel.service_url, kid="k-nobody", key=fakes.new_rsa_key())
                )
            assert oid.fetches[3:] == ["/keys"]  # exactly one more fetch, then the refusal

        run(scenario())


def test_validator_raises_unauthorized_directly(channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer) -> None:
    validator = edge.make_validator(auth_settings(openid))
    assert validator is not None

    async def scenario() -> None:
        with pytest.raises(edge.Unauthorized):
            await validator.validate("Bearer x.y.z")
        token = await validator.validate(openid.bearer(APP_ID, serviceurl=channel.service_url))
        assert token.identity.claims["aud"] == APP_ID
        assert token.endorsements == frozenset({"msteams"})
        edge.check_activity(token, "msteams", channel.service_url)
        with pytest.raises(edge.Unauthorized, match="endorsed"):
            edge.check_activity(token, "webchat", channel.service_url)

    run(scenario())


@pytest.mark.parametrize("with_openid_override", [False, True])
def test_empty_app_id_needs_no_header_and_sends_no_token(
    with_openid_override: bool, channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    # The default app_type (SingleTenant) would make the SDK refuse an empty app id; the edge copes.
    settings = Settings(
        app_id="",
        app_password="",
        openid_metadata_url=openid.metadata_url if with_openid_override else "",
    )

    async def scenario() -> int:
        async with serve_bot(settings) as app:
            status, _ = await post(app.url, incoming(channel, "no auth"))
            return status

    assert run(scenario()) == 200
    [reply] = channel.wait_for(1)
    assert reply.text == "echo: no auth"
    assert reply.authorization is None


# --------------------------------------------------------------------------------------------------
# Invoke responses and events
# --------------------------------------------------------------------------------------------------


def test_card_action_invoke_returns_the_card_with_http_200(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    async def scenario() -> list[tuple[int, Any]]:
        async with serve_bot(auth_settings(openid), fakes.FixedTokenSource()) as app:
            results = []
            for verb in ("refresh", "acknowledge"):
                body = fakes.invoke_adaptive_card_action(
                    verb, {"case": "CPC-123"}, CONVERSATION, USER_ID, AAD_ID, channel.service_url
                )
                token = openid.bearer(APP_ID, serviceurl=channel.service_url)
                results.append(await post(app.url, body, token))
            return results

    (card_status, card_body), (msg_status, msg_body) = run(scenario())
    assert card_status == 200
    assert card_body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": fakes.adaptive_card("case CPC-123"),
    }
    assert msg_status == 200
    assert msg_body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "noted acknowledge",
    }
    assert channel.requests() == []  # an invoke answers in the HTTP response, not through the channel


def test_meeting_end_event_reaches_the_bot_with_its_tenant(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    body = fakes.meeting_end("19:meeting_abc@thread.v2", "2026-11-23T11:00:00Z", channel.service_url, "tenant-9")

    async def scenario() -> tuple[int, EchoAgent]:
        async with serve_bot(
            auth_settings(openid, allowed_tenants="tenant-1,tenant-9"), fakes.FixedTokenSource()
        ) as app:
            status, _ = await post(app.url, body, openid.bearer(APP_ID, serviceurl=channel.service_url))
            return status, app.bot

    status, bot = run(scenario())
    assert status == 200
    assert bot.events == [("application/vnd.microsoft.meetingEnd", body["value"])]
    assert body["value"]["EndTime"] == "2026-11-23T11:00:00Z"
    assert edge.tenant_id(edge.parse_activity(body)) == "tenant-9"


def test_tenant_id_comes_from_channel_data() -> None:
    url = "http://127.0.0.1:9/"
    for body in (
        fakes.message("x", "a:1", USER_ID, AAD_ID, url, tenant_id="t-msg"),
        fakes.invoke_adaptive_card_action("v", {}, "a:1", USER_ID, AAD_ID, url, tenant_id="t-msg"),
        fakes.meeting_end("19:m", "2026-01-01T00:00:00Z", url, tenant_id="t-msg"),
    ):
        activity = edge.parse_activity(body)
        assert edge.tenant_id(activity) == "t-msg"
    bare = fakes.message("x", "a:1", USER_ID, AAD_ID, url)
    del bare["channelData"]
    del bare["conversation"]["tenantId"]
    assert edge.tenant_id(edge.parse_activity(bare)) is None


# --------------------------------------------------------------------------------------------------
# Conversation references, proactive sends and their failures
# --------------------------------------------------------------------------------------------------


def test_reference_round_trips_and_rejects_garbage(channel: fakes.FakeTeamsChannel) -> None:
    stored = edge.reference_to_json(edge.parse_activity(incoming(channel)))
    assert json.loads(stored)["conversation"]["id"] == CONVERSATION
    reference = edge.reference_from_json(stored)
    assert (reference.conversation.id, reference.service_url) == (CONVERSATION, channel.service_url)
    assert reference.user is not None
    assert (reference.user.id, reference.user.aad_object_id) == (USER_ID, AAD_ID)
    for garbage in ("not json", "[]", "{}"):
        with pytest.raises(ValueError):
            edge.reference_from_json(garbage)


def test_send_proactive_and_update_reach_the_channel(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    async def scenario() -> str:
        factory = fakes.FixedTokenSource(OUTGOING_TOKEN)
        async with serve_bot(auth_settings(openid), factory) as app:
            token = openid.bearer(APP_ID, serviceurl=channel.service_url)
            assert (await post(app.url, incoming(channel), token))[0] == 200
            reference = app.bot.references[0]
            sent_id = await edge.send_proactive(app.adapter, APP_ID, reference, fakes.adaptive_card("Due soon"))
            await edge.update_proactive(
                app.adapter, APP_ID, reference, sent_id, fakes.card_activity(fakes.adaptive_card("Done"))
            )
            return sent_id

    sent_id = run(scenario())
    _echo, sent, updated = channel.wait_for(3)
    assert sent.response_id == sent_id
    assert sent.conversation_id == CONVERSATION
    assert sent.attachments[0]["contentType"] == edge.ADAPTIVE_CARD_CONTENT_TYPE
    assert sent.attachments[0]["content"]["body"][0]["text"] == "Due soon"
    assert (updated.kind, updated.activity_id) == ("update", sent_id)
    assert updated.attachments[0]["content"]["body"][0]["text"] == "Done"
    assert sent.authorization == updated.authorization == f"Bearer {OUTGOING_TOKEN}"


FAILURES = {
    "429 with Retry-After": (429, 7, None, 7.0, False, True),
    "403 MessageWritesBlocked": (403, None, fakes.BLOCKED_BODY, None, True, False),
    "403 other": (403, None, None, None, True, False),
    "502": (502, None, None, None, False, True),
}


@pytest.mark.parametrize("operation", ["send", "update"])
@pytest.mark.parametrize("case", list(FAILURES))
def test_send_failed_carries_status_retry_after_and_blocked(
    case: str, operation: str, channel: fakes.FakeTeamsChannel
) -> None:
    status, retry_after, body, expected_retry_after, expected_blocked, retryable = FAILURES[case]
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    reference = edge.reference_to_json(edge.parse_activity(incoming(channel)))
    channel.fail_next(CONVERSATION, status, retry_after=retry_after, body=body)

    async def scenario() -> None:
        if operation == "send":
            await edge.send_proactive(adapter, "", reference, fakes.adaptive_card())
        else:
            await edge.update_proactive(adapter, "", reference, "activity-7", fakes.adaptive_card())

    with pytest.raises(edge.SendFailed) as caught:
        run(closing(adapter, scenario()))
    failure = caught.value
    assert (failure.status, failure.retry_after, failure.blocked) == (status, expected_retry_after, expected_blocked)
    assert failure.retryable is retryable
    if body is fakes.BLOCKED_BODY:
        assert failure.code == "MessageWritesBlocked"
    # One attempt only: the SDK makes one request per call; the scheduler does the retrying.
    assert len(channel.requests()) == 1


def test_unreachable_channel_is_send_failed_without_status() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    reference = edge.reference_to_json(edge.parse_activity(fakes.message("x", CONVERSATION, USER_ID, AAD_ID, dead_url)))
    with pytest.raises(edge.SendFailed) as caught:
        run(closing(adapter, edge.send_proactive(adapter, "", reference, {"type": "message", "text": "hello"})))
    assert (caught.value.status, caught.value.blocked, caught.value.retryable) == (None, False, True)


def test_personal_conversation_is_created_then_usable(channel: fakes.FakeTeamsChannel) -> None:
    factory = fakes.FixedTokenSource(OUTGOING_TOKEN)
    adapter = edge.make_adapter(Settings(app_id=APP_ID, app_type="MultiTenant"), factory)

    async def scenario() -> tuple[str, str]:
        reference = await edge.create_personal_conversation(adapter, APP_ID, channel.service_url, "tenant-1", AAD_ID)
        return reference, await edge.send_proactive(adapter, APP_ID, reference, {"type": "message", "text": "hi"})

    reference, sent_id = run(closing(adapter, scenario()))
    created, sent = channel.requests()
    assert created.kind == "create_conversation"
    assert created.body["members"] == [{"id": AAD_ID}]
    assert created.body["channelData"] == {"tenant": {"id": "tenant-1"}}
    assert sent.conversation_id == created.response_id == json.loads(reference)["conversation"]["id"]
    assert (sent.response_id, sent.text) == (sent_id, "hi")


# --------------------------------------------------------------------------------------------------
# Roster
# --------------------------------------------------------------------------------------------------


def test_member_email_reads_the_roster_and_is_none_when_unknown(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    channel.add_member(USER_ID, AAD_ID, "sam.chair@council.example", "Sam Chair")

    async def scenario() -> None:
        async with serve_bot(auth_settings(openid), fakes.FixedTokenSource()) as app:
            for text in (f"whois {USER_ID}", f"whois {AAD_ID}", "whois 29:stranger"):
                token = openid.bearer(APP_ID, serviceurl=channel.service_url)
                assert (await post(app.url, incoming(channel, text), token))[0] == 200

    run(scenario())
    replies = channel.wait_for(3)
    assert [r.text for r in replies] == [
        "email: sam.chair@council.example",
        "email: sam.chair@council.example",
        "email: None",
    ]
    lookups = [r for r in channel.requests() if r.kind == "get_member"]
    assert [(r.conversation_id, r.member_id, r.status) for r in lookups] == [
        (CONVERSATION, USER_ID, 200),
        (CONVERSATION, AAD_ID, 200),
        (CONVERSATION, "29:stranger", 404),
    ]


def test_old_sdk_is_gone() -> None:
    """Neither botbuilder nor msrest is installed (issue 11): their absence is part of the build."""
    for name in ("botbuilder-core", "botbuilder-integration-aiohttp", "botbuilder-schema", "msrest"):
        with pytest.raises(importlib.metadata.PackageNotFoundError):
            importlib.metadata.version(name)
    for module in ("botbuilder", "botframework", "msrest"):
        assert importlib.util.find_spec(module) is None


def test_cards_go_out_exactly_as_drawn(channel: fakes.FakeTeamsChannel) -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x", "wrap": True}]}
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    ref = edge.reference_to_json(
        edge.parse_activity(fakes.message("hi", CONVERSATION, USER_ID, AAD_ID, channel.service_url))
    )
    run(closing(adapter, edge.send_proactive(adapter, "", ref, edge.card_activity(card))))
    (received,) = channel.wait_for(1)
    assert received.kind == "send"  # a proactive message is a plain post, not a reply to the continuation
    assert received.attachments == [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]


def test_a_reference_stored_by_the_old_botbuilder_edge_still_works(channel: fakes.FakeTeamsChannel) -> None:
    """References written before the move (botbuilder's serializer) load and deliver unchanged."""
    old = json.dumps(
        {
            "activityId": "1700000000000",
            "bot": {"id": "28:bot-app-id", "name": "CPC"},
            "channelId": "msteams",
            "conversation": {"conversationType": "personal", "id": CONVERSATION, "tenantId": "tenant-1"},
            "serviceUrl": channel.service_url,
            "user": {"aadObjectId": AAD_ID, "id": USER_ID, "name": "Sam"},
        },
        sort_keys=True,
    )
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    sent = run(closing(adapter, edge.send_proactive(adapter, "", old, {"type": "message", "text": "still here"})))
    (received,) = channel.wait_for(1)
    assert (received.conversation_id, received.text, received.response_id) == (CONVERSATION, "still here", sent)


def test_a_hanging_channel_fails_the_send_within_its_limit(channel: fakes.FakeTeamsChannel) -> None:
    """A Teams endpoint that never answers is a failed attempt after the proactive limit, not a hang."""
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    ref = edge.reference_to_json(edge.parse_activity(incoming(channel)))
    channel.hang(30)

    async def scenario() -> float:
        started = time.monotonic()
        with pytest.raises(edge.SendFailed) as caught:
            await edge.send_proactive(adapter, "", ref, {"type": "message", "text": "hello"}, timeout=0.5)
        assert (caught.value.status, caught.value.retryable) == (None, True)
        assert "in time" in str(caught.value)
        return time.monotonic() - started

    elapsed = run(closing(adapter, scenario()))
    channel.hang(0)
    assert elapsed < 30  # it gave up long before the channel would have answered (not a timing bound)


def test_call_timeout_applies_only_inside_its_block() -> None:
    from bot import edge_client

    assert edge_client._timeout.get() == edge_client.TURN_CALL_TIMEOUT
    with call_timeout(1.5):
        assert edge_client._timeout.get() == 1.5
    assert edge_client._timeout.get() == edge_client.TURN_CALL_TIMEOUT


def test_channel_clients_are_kept_per_token_and_closed_by_the_app(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The SDK's client constructors read package metadata from disk and the SDK closes both clients
    after every turn: the edge keeps one per (service URL, token, limit) instead, so turns after the
    first build nothing, a new outgoing token gets a client of its own, and the app's cleanup closes them."""
    from bot import edge_client

    source = fakes.FixedTokenSource("token-one")
    kept: list[Any] = []

    async def scenario() -> None:
        async with serve_bot(auth_settings(openid), source) as app:
            for text in ("one", "two", "three"):
                if text == "three":
                    source.token = "token-two"  # the outgoing token was renewed
                token = openid.bearer(APP_ID, serviceurl=channel.service_url)
                status, _ = await post(app.url, incoming(channel, text), token)
                assert status == 200
            clients = app.adapter.cpc_clients._clients  # type: ignore[attr-defined]
            kept.extend(clients.values())
        assert all(c.client.closed for c in kept)

    gc.collect()  # sessions other tests left behind report themselves now, not inside this test
    with caplog.at_level(logging.ERROR):
        run(scenario())
        gc.collect()
    replies = channel.wait_for(3)
    assert [r.authorization for r in replies] == ["Bearer token-one", "Bearer token-one", "Bearer token-two"]
    connectors = [c for c in kept if isinstance(c, edge_client._TeamsClient)]
    assert len(connectors) == 2 and len(kept) == 3  # two tokens, one user-token client, for three turns
    assert "Unclosed client session" not in caplog.text


def test_a_client_pushed_out_of_the_cache_is_closed_after_its_grace(
    channel: fakes.FakeTeamsChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import edge_client

    monkeypatch.setattr(edge_client, "_KEPT_CLIENTS", 1)
    monkeypatch.setattr(edge_client, "_RELEASE_AFTER", 0.05)
    clients = edge_client.ChannelClients("", None)
    identity = edge.ClaimsIdentity({}, "anonymous")

    async def scenario() -> tuple[bool, bool, bool]:
        first: Any = await clients.create_connector_client(None, identity, channel.service_url, "aud")
        again: Any = await clients.create_connector_client(None, identity, channel.service_url, "aud")
        other: Any = await clients.create_connector_client(None, identity, channel.service_url + "x/", "aud")
        still_open = not first.client.closed  # a turn that took it may still be using it
        await asyncio.sleep(0.2)
        closed_later = first.client.closed
        # Pushed out just before the app stops: the cleanup closes it without waiting for its grace.
        monkeypatch.setattr(edge_client, "_RELEASE_AFTER", 3600)
        last: Any = await clients.create_connector_client(None, identity, channel.service_url + "y/", "aud")
        await clients.close()
        closed_at_cleanup = other.client.closed and last.client.closed
        return first is again and other is not first, still_open, closed_later and closed_at_cleanup

    assert run(scenario()) == (True, True, True)
