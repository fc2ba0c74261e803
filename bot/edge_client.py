"""Outgoing calls to the channel: one connection pool, a time limit on every call, our own token source.

Why not the SDK's ``RestChannelServiceClientFactory`` (hosting/core/rest_channel_service_client_factory.py,
1.9.0): it opens two new aiohttp sessions on every turn (a connector client and a user-token client,
each with its own connection pool, so no connection is reused between turns) and sets no time limit.
A Teams endpoint that hangs would then hold a turn far past the 15 seconds Teams waits for an answer
(issue 11, "Hangs"). Here every session shares one pool per event loop and carries a total time
limit: :data:`TURN_CALL_TIMEOUT` inside a turn, or the limit a proactive send asks for
(:func:`call_timeout`), so a timed-out send fails like any other attempt and is retried by the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import quote

from aiohttp import ClientSession, ClientTimeout, TCPConnector
from microsoft_agents.activity import Activity, ResourceResponse
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from microsoft_agents.hosting.core.connector import ConnectorClientBase, UserTokenClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.client.connector_client import ConversationsOperations
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

#: The limit on each outgoing call made inside a turn: a member lookup and the reply together stay
#: inside the 15 seconds Teams waits for the turn's answer.
TURN_CALL_TIMEOUT = 6.0
#: The limit on a proactive send (a notice or reminder): the sweep counts a timeout as a failed attempt.
PROACTIVE_CALL_TIMEOUT = 10.0
#: The Bot Framework token service (unused by this bot, which signs nobody in, but the SDK's turn
#: asks for a client for it).
TOKEN_SERVICE_URL = "https://api.botframework.com"

#: Gives the outgoing token for an audience and scopes: MSAL in production, a fixed token in tests.
TokenSource = Callable[[str, list[str]], Awaitable[str]]

_timeout: contextvars.ContextVar[float] = contextvars.ContextVar("cpc_channel_call_timeout", default=TURN_CALL_TIMEOUT)


@contextlib.contextmanager
def call_timeout(seconds: float) -> Iterator[None]:
    """Calls made to the channel inside this block get ``seconds`` each (proactive sends use it)."""
    token = _timeout.set(seconds)
    try:
        yield
    finally:
        _timeout.reset(token)


#: What may stay unencoded in a conversation id inside a URL path (Teams ids hold ``:`` ``@`` ``;``).
_ID_SAFE = ":@;=,"


class _EncodedConversations(ConversationsOperations):
    """The SDK puts conversation ids into URLs as they are (checked in 1.9.0: only agentic ids are
    sanitized), so an id holding ``/``, ``?`` or ``#`` would post to another path. Botbuilder
    percent-encoded them; this does the same, at the one place the SDK shapes every id."""

    def _normalize_conversation_id(self, conversation_id: str, activity: Any = None) -> str:
        return quote(super()._normalize_conversation_id(conversation_id, activity), safe=_ID_SAFE)

    async def send_to_conversation(self, conversation_id: str, body: Activity) -> ResourceResponse:
        """The SDK's ``send_activities`` sets ``activity.id = None`` before every send, and the body is
        written with ``exclude_unset``, so a proactive message carried ``"id": null``, which the Agents
        Playground refuses with 400 (checked with 1.9.0 and Playground 0.2.28). The id is the
        channel's to give: it is left out."""
        return await super().send_to_conversation(conversation_id, _without_null_id(body))

    async def reply_to_activity(self, conversation_id: str, activity_id: str, body: Activity) -> ResourceResponse:
        return await super().reply_to_activity(conversation_id, activity_id, _without_null_id(body))


def _without_null_id(body: Activity) -> Activity:
    if body.id is None and "id" in body.model_fields_set:
        body = body.model_copy()
        body.model_fields_set.discard("id")
    return body


class _TeamsClient(TeamsConnectorClient):
    """The SDK's Teams connector with encoded conversation and member ids."""

    def __init__(self, endpoint: str, token: str, *, session: ClientSession) -> None:
        super().__init__(endpoint=endpoint, token=token, session=session)
        self._conversations = _EncodedConversations(self.client)

    async def get_conversation_member(self, conversation_id: str, user_id: str) -> Any:
        return await super().get_conversation_member(
            quote(conversation_id, safe=_ID_SAFE), quote(user_id, safe=_ID_SAFE)
        )

    async def close(self) -> None:
        """The SDK closes both clients at the end of every turn; a kept client's session belongs to
        :class:`ChannelClients`, which closes it (``release``)."""

    async def release(self) -> None:
        await self.client.close()


class _KeptUserTokenClient(UserTokenClient):
    """The SDK's user-token client, kept like :class:`_TeamsClient` (never called: nobody signs in)."""

    async def close(self) -> None:
        """Left open at the end of a turn; :class:`ChannelClients` closes it (``release``)."""

    async def release(self) -> None:
        await self.client.close()


#: How many (service URL, token, time limit) clients are kept per process; a token changes about hourly.
_KEPT_CLIENTS = 32


class ChannelClients:
    """The SDK's client factory (``ChannelServiceClientFactoryBase``), with a shared pool and limits.

    Clients are kept and reused, keyed by event loop, service URL, outgoing token and time limit.
    Why: the SDK closes both clients at the end of every turn (``ChannelServiceAdapter``, 1.9.0), so
    each turn built them again, and each constructor reads the package metadata from disk (the
    ``User-Agent`` default, ``get_product_info``, is evaluated eagerly: a dozen ``stat`` calls). On the
    2-core machine that cost about a fifth of an echo turn (bench/messages.py: 374-422 req/s before,
    465-510 after). The kept clients ignore the SDK's close; this factory closes them when they fall
    out of the cache or at the app's cleanup.
    """

    def __init__(self, app_id: str, token_source: TokenSource | None) -> None:
        self.app_id = app_id
        self.token_source = token_source
        self._pools: dict[asyncio.AbstractEventLoop, TCPConnector] = {}
        self._clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._retiring: set[tuple[asyncio.AbstractEventLoop, Any]] = set()
        self._releasing: set[asyncio.Task[None]] = set()

    def _pool(self) -> TCPConnector:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None or pool.closed:
            for old in [lp for lp in self._pools if lp.is_closed()]:
                del self._pools[old]
            pool = self._pools[loop] = TCPConnector(limit=100, ttl_dns_cache=300)
        return pool

    def _session(self, base_url: str) -> ClientSession:
        if not base_url.endswith("/"):
            base_url += "/"
        return ClientSession(
            base_url=base_url,
            connector=self._pool(),
            connector_owner=False,
            timeout=ClientTimeout(total=_timeout.get()),
        )

    def _kept(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """The client kept for ``key`` on this loop, made by ``make`` when there is none open."""
        key = (asyncio.get_running_loop(), _timeout.get(), *key)
        client = self._clients.get(key)
        if client is not None and not client.client.closed:
            self._clients.move_to_end(key)
            return client
        client = self._clients[key] = make()
        while len(self._clients) > _KEPT_CLIENTS:
            (loop, *_), old = self._clients.popitem(last=False)
            self._close_soon(loop, old)
        return client

    async def _token(self, audience: str, scopes: list[str] | None) -> str:
        if self.token_source is None:
            return ""
        return await self.token_source(audience, list(scopes or ()))

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        if not service_url:
            raise TypeError("the activity has no serviceUrl to answer to")
        token = await self._token(audience, scopes or claims_identity.get_token_scope())
        client: ConnectorClientBase = self._kept(
            ("connector", service_url, token),
            lambda: _TeamsClient(service_url, token, session=self._session(service_url)),
        )
        return client

    async def create_user_token_client(
        self, context: TurnContext, claims_identity: ClaimsIdentity, use_anonymous: bool = False
    ) -> UserTokenClientBase:
        # No token is fetched for it: the bot signs nobody in, so the client is never called.
        client: UserTokenClientBase = self._kept(
            ("user-token",),
            lambda: _KeptUserTokenClient(
                TOKEN_SERVICE_URL, "", app_id=self.app_id or "local", session=self._session(TOKEN_SERVICE_URL)
            ),
        )
        return client

    def _close_soon(self, loop: asyncio.AbstractEventLoop, client: Any) -> None:
        """Close a client that fell out of the cache once any turn that took it before has had time
        to finish (its calls are time-limited), or at the app's cleanup if that comes first; a client
        of a loop that has ended needs nothing. Its pool is shared and stays open, so closing only
        marks the session closed."""
        if loop.is_closed():
            return
        self._retiring.add((loop, client))

        def release() -> None:
            if (loop, client) in self._retiring:
                self._retiring.discard((loop, client))
                task = loop.create_task(client.release())
                self._releasing.add(task)
                task.add_done_callback(self._releasing.discard)

        loop.call_later(_RELEASE_AFTER, release)

    async def close(self) -> None:
        """Close this loop's clients and pool (the app's cleanup); other loops' close with their loops."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for key in [k for k in self._clients if k[0] is loop]:
            await self._clients.pop(key).release()
        for retiring in [r for r in self._retiring if r[0] is loop]:
            self._retiring.discard(retiring)
            await retiring[1].release()
        pool = self._pools.pop(loop, None)
        if pool is not None:
            await pool.close()


#: Seconds an evicted client stays open: longer than a turn or a proactive send may take.
_RELEASE_AFTER = 4 * PROACTIVE_CALL_TIMEOUT


def msal_token_source(app_id: str, app_password: str, tenant_id: str, app_type: str) -> TokenSource:
    """Outgoing tokens from Entra through the SDK's MSAL provider (client secret or managed identity)."""
    from microsoft_agents.authentication.msal import MsalAuth
    from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, AuthTypes

    kind = app_type.lower()
    auth_type = AuthTypes.user_managed_identity if kind == "userassignedmsi" else AuthTypes.client_secret
    tenant = tenant_id if kind != "multitenant" else (tenant_id or "botframework.com")
    provider = MsalAuth(
        AgentAuthConfiguration(auth_type=auth_type, client_id=app_id, tenant_id=tenant, client_secret=app_password)
    )

    async def source(audience: str, scopes: list[str]) -> str:
        token: Any = await provider.get_access_token(audience, scopes)
        return str(token)

    return source
