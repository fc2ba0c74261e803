"""bot/edge.py over real HTTP: real token validation against a local JWKS, real CloudAdapter, fake Teams.

A minimal aiohttp app is built here from ``make_adapter`` + ``authenticate`` + ``process`` only, with a
trivial echo bot, so that these tests pin the edge's contract rather than the real app's routing.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext

from app.settings import Settings
from bot import edge
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


class EchoBot(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no type information
    """Echoes messages; answers card actions; records every turn so tests can see it never ran."""

    def __init__(self) -> None:
        super().__init__()
        self.turns: list[str] = []
        self.references: list[str] = []
        self.events: list[tuple[str, Any]] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        self.turns.append(text)
        self.references.append(edge.reference_to_json(turn_context.activity))
        if text.startswith("whois "):
            email = await edge.member_email(turn_context, text.removeprefix("whois "))
            await turn_context.send_activity(f"email: {email}")
        else:
            await turn_context.send_activity(f"echo: {text}")

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        self.turns.append(f"event:{turn_context.activity.name}")
        self.events.append((turn_context.activity.name, turn_context.activity.value))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        self.turns.append(f"invoke:{turn_context.activity.name}")
        action = (turn_context.activity.value or {}).get("action", {})
        if action.get("verb") == "refresh":
            return edge.adaptive_card_invoke_response(fakes.adaptive_card(f"case {action['data']['case']}"))
        return edge.message_invoke_response(f"noted {action.get('verb')}")


@dataclass
class BotApp:
    url: str
    adapter: edge.CloudAdapter
    bot: EchoBot = field(repr=False)


@asynccontextmanager
async def serve_bot(settings: Settings, credentials_factory: Any = None) -> AsyncIterator[BotApp]:
    """``/api/messages`` on loopback, written against bot/edge.py only."""
    adapter = edge.make_adapter(settings, credentials_factory)
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        try:
            activity = edge.parse_activity(await request.json())
        except ValueError:
            return web.Response(status=400)
        try:
            auth = await edge.authenticate(adapter, activity, request.headers.get("Authorization"))
        except edge.Unauthorized:
            return web.Response(status=401)
        response = await edge.process(adapter, auth, activity, bot.on_turn)
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
        await runner.cleanup()


async def post(url: str, body: dict[str, Any], authorization: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as resp:
        payload = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, payload


def auth_settings(openid: fakes.OpenIdServer) -> Settings:
    return Settings(
        app_id=APP_ID,
        app_password="",
        app_type="MultiTenant",
        openid_metadata_url=openid.metadata_url,
        token_issuer=fakes.BOT_FRAMEWORK_ISSUER,
    )


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
    factory = fakes.FixedTokenCredentialsFactory(APP_ID, OUTGOING_TOKEN)

    async def scenario() -> list[int]:
        async with serve_bot(auth_settings(openid), factory) as app:
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
    # The overridden OpenID settings must not lose the public-cloud scope and login URL of outgoing calls.
    assert {(scope, login) for _, scope, login, _ in factory.calls} == {
        ("https://api.botframework.com", "https://login.microsoftonline.com/")
    }
    # Metadata and keys are fetched once and then cached (globally, per URL).
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
}


@pytest.mark.parametrize("case", list(BAD_HEADERS))
def test_every_bad_token_is_401_and_the_bot_never_runs(
    case: str, channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    header = BAD_HEADERS[case](openid, channel.service_url)

    async def scenario() -> tuple[int, list[str]]:
        async with serve_bot(auth_settings(openid), fakes.FixedTokenCredentialsFactory(APP_ID)) as app:
            status, _ = await post(app.url, incoming(channel), header)
            return status, app.bot.turns

    status, turns = run(scenario())
    assert status == 401
    assert turns == []
    assert channel.requests() == []


def test_authenticate_raises_unauthorized_directly(channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer) -> None:
    adapter = edge.make_adapter(auth_settings(openid), fakes.FixedTokenCredentialsFactory(APP_ID))
    activity = edge.parse_activity(incoming(channel))

    async def scenario() -> None:
        with pytest.raises(edge.Unauthorized):
            await edge.authenticate(adapter.bot_framework_authentication, activity, "Bearer x.y.z")
        good = openid.bearer(APP_ID, serviceurl=channel.service_url)
        result = await edge.authenticate(adapter, activity, good)
        assert result.claims_identity.claims["aud"] == APP_ID

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
        async with serve_bot(auth_settings(openid), fakes.FixedTokenCredentialsFactory(APP_ID)) as app:
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


def test_invoke_bodies_also_survive_the_sdks_own_http_glue(channel: fakes.FakeTeamsChannel) -> None:
    """CloudAdapter.process (botbuilder's aiohttp glue) serializes the body itself: the models must
    reach it unserialized, for the card and for the message response alike."""
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    bot = EchoBot()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        assert isinstance(response, web.StreamResponse)
        return response

    async def scenario() -> list[tuple[int, Any]]:
        app = web.Application()
        app.router.add_post("/api/messages", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
        try:
            out = []
            for verb in ("refresh", "other"):
                body = fakes.invoke_adaptive_card_action(
                    verb, {"case": "CPC-9"}, CONVERSATION, USER_ID, AAD_ID, channel.service_url
                )
                out.append(await post(url, body))
            return out
        finally:
            await runner.cleanup()

    (s1, b1), (s2, b2) = run(scenario())
    assert (s1, b1["type"], b1["value"]) == (200, edge.ADAPTIVE_CARD_CONTENT_TYPE, fakes.adaptive_card("case CPC-9"))
    assert (s2, b2["value"]) == (200, "noted other")


def test_meeting_end_event_reaches_the_bot_with_its_tenant(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    body = fakes.meeting_end("19:meeting_abc@thread.v2", "2026-11-23T11:00:00Z", channel.service_url, "tenant-9")

    async def scenario() -> tuple[int, EchoBot]:
        async with serve_bot(auth_settings(openid), fakes.FixedTokenCredentialsFactory(APP_ID)) as app:
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
        assert activity.conversation.tenant_id is None  # the SDK drops Teams' conversation.tenantId
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
    assert (reference.user.id, reference.user.aad_object_id) == (USER_ID, AAD_ID)
    for garbage in ("not json", "[]", "{}"):
        with pytest.raises(ValueError):
            edge.reference_from_json(garbage)


def test_send_proactive_and_update_reach_the_channel(
    channel: fakes.FakeTeamsChannel, openid: fakes.OpenIdServer
) -> None:
    async def scenario() -> str:
        factory = fakes.FixedTokenCredentialsFactory(APP_ID, OUTGOING_TOKEN)
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
        run(scenario())
    failure = caught.value
    assert (failure.status, failure.retry_after, failure.blocked) == (status, expected_retry_after, expected_blocked)
    assert failure.retryable is retryable
    if body is fakes.BLOCKED_BODY:
        assert failure.code == "MessageWritesBlocked"
    # One attempt only: msrest's hidden retries (PUT on 5xx, Retry-After on 429) are switched off.
    assert len(channel.requests()) == 1


def test_unreachable_channel_is_send_failed_without_status() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    reference = edge.reference_to_json(edge.parse_activity(fakes.message("x", CONVERSATION, USER_ID, AAD_ID, dead_url)))
    with pytest.raises(edge.SendFailed) as caught:
        run(edge.send_proactive(adapter, "", reference, {"type": "message", "text": "hello"}))
    assert (caught.value.status, caught.value.blocked, caught.value.retryable) == (None, False, True)


def test_personal_conversation_is_created_then_usable(channel: fakes.FakeTeamsChannel) -> None:
    factory = fakes.FixedTokenCredentialsFactory(APP_ID, OUTGOING_TOKEN)
    adapter = edge.make_adapter(Settings(app_id=APP_ID, app_type="MultiTenant"), factory)

    async def scenario() -> tuple[str, str]:
        reference = await edge.create_personal_conversation(adapter, APP_ID, channel.service_url, "tenant-1", AAD_ID)
        return reference, await edge.send_proactive(adapter, APP_ID, reference, {"type": "message", "text": "hi"})

    reference, sent_id = run(scenario())
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
        async with serve_bot(auth_settings(openid), fakes.FixedTokenCredentialsFactory(APP_ID)) as app:
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


def test_msrest_retry_policy_is_unchanged_but_fast() -> None:
    from msrest.universal_http.requests import ClientRetryPolicy

    expected = [i for i in range(999) if i not in ([i for i in range(500) if i != 408] + [501, 505])]
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    assert ClientRetryPolicy().policy.status_forcelist == expected


def test_json_cards_go_out_unchanged_without_copies(channel: fakes.FakeTeamsChannel) -> None:
    import copy

    import botbuilder.schema as schema
    from msrest.serialization import Serializer

    models = {k: v for k, v in vars(schema).items() if isinstance(v, type)}
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x", "wrap": True}]}
    activity = edge.card_activity(card)
    assert copy.deepcopy(activity).attachments[0].content is activity.attachments[0].content
    body = Serializer(models).body(activity, "Activity")  # type: ignore[no-untyped-call]
    assert body["attachments"] == [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]
    # Other objects are still serialized by msrest as before.
    assert Serializer().serialize_object({"a": [1, "b", None]}) == {"a": [1, "b", None]}  # type: ignore[no-untyped-call]
    # And a proactive send carries exactly the card.
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))

    async def send() -> None:
        ref_activity = fakes.message("hi", CONVERSATION, USER_ID, AAD_ID, channel.service_url)
        from botbuilder.schema import Activity

        ref = edge.reference_to_json(Activity().deserialize(ref_activity))
        await edge.send_proactive(adapter, "", ref, edge.card_activity(card))

    asyncio.run(send())
    (received,) = channel.wait_for(1)
    assert received.attachments == [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]


def test_disabled_auth_without_a_header_validates_inline_and_with_a_header_still_checks(
    channel: fakes.FakeTeamsChannel,
) -> None:
    adapter = edge.make_adapter(Settings(app_id="", app_password=""))
    from botbuilder.schema import Activity

    activity = Activity().deserialize(incoming(channel))

    async def check() -> None:
        result = await edge.authenticate(adapter, activity, None)
        assert result.claims_identity.is_authenticated
        # A token sent to a bot with auth disabled is still validated by the SDK (and refused here).
        with pytest.raises(edge.Unauthorized):
            await edge.authenticate(adapter, activity, "Bearer not-a-jwt")

    asyncio.run(check())
