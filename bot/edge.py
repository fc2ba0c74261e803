"""The Teams edge: the only place that touches the Microsoft 365 Agents SDK's adapter, auth and connector.

Why one edge: the SDK moves quickly (1.3.0 removed ``TurnContext.get/set/has``), and it replaced the
Bot Framework SDK, which was archived at the end of 2025. Everything else in ``bot/`` talks to the
functions here, so an SDK change touches this module and its parts only:

- token checks, stricter than the SDK's defaults, in :mod:`bot.edge_auth`;
- outgoing clients with one shared pool and time limits in :mod:`bot.edge_client`;
- reading activities and conversation references in :mod:`bot.edge_activities`;
- what is sent and the invoke responses in :mod:`bot.edge_cards`;
- proactive sends and their failures in :mod:`bot.edge_proactive`.

The app (:mod:`bot.app`) checks the token before it reads the body, parses the activity itself
(the SDK's ``process_request`` answers a malformed one with a 500) and then runs the turn with
:func:`process`, which is the SDK's ``process_activity`` with the validated claims.
"""

from __future__ import annotations

from typing import Protocol

from microsoft_agents.activity import Activity, InvokeResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from bot.edge_activities import (
    RosterEntry,
    channel_of,
    member_email,
    member_name,
    mentioned_ids,
    parse_activity,
    reference_from_json,
    reference_to_json,
    roster_entry,
    tenant_id,
)
from bot.edge_auth import (
    AUTH_TIMEOUT_SECONDS,
    BOT_FRAMEWORK_ISSUER,
    BOT_FRAMEWORK_OPENID_METADATA_URL,
    ChannelToken,
    TokenValidator,
    Unauthorized,
    check_activity,
    log,
)
from bot.edge_cards import (
    ADAPTIVE_CARD_CONTENT_TYPE,
    MESSAGE_CONTENT_TYPE,
    adaptive_card_response,
    card_activity,
    invoke_response_json,
    message_response,
    text_activity,
)
from bot.edge_client import ChannelClients, TokenSource, msal_token_source
from bot.edge_proactive import Logic, create_personal_conversation, send_failed, send_proactive, update_proactive
from casework.ports import SendFailed


class Settings(Protocol):
    """What the edge reads of the composition root's settings (``app.settings.Settings``), by shape,
    so that the bot never imports the composition root."""

    app_id: str
    app_password: str
    app_type: str
    app_tenant_id: str
    openid_metadata_url: str
    token_issuer: str


__all__ = [
    "ADAPTIVE_CARD_CONTENT_TYPE",
    "AUTH_TIMEOUT_SECONDS",
    "MESSAGE_CONTENT_TYPE",
    "Activity",
    "ChannelToken",
    "ClaimsIdentity",
    "CloudAdapter",
    "InvokeResponse",
    "Logic",
    "RosterEntry",
    "SendFailed",
    "TokenSource",
    "TurnContext",
    "Unauthorized",
    "adaptive_card_response",
    "card_activity",
    "channel_of",
    "check_activity",
    "create_personal_conversation",
    "invoke_response_json",
    "log",
    "make_adapter",
    "make_validator",
    "member_email",
    "member_name",
    "mentioned_ids",
    "message_response",
    "parse_activity",
    "process",
    "reference_from_json",
    "reference_to_json",
    "roster_entry",
    "send_failed",
    "send_proactive",
    "tenant_id",
    "text_activity",
    "update_proactive",
]


def make_validator(settings: Settings) -> TokenValidator | None:
    """The channel token validator, or None when no app id is set (unauthenticated, loopback only)."""
    if not settings.app_id:
        return None
    issuers = (settings.token_issuer,) if settings.token_issuer else (BOT_FRAMEWORK_ISSUER,)
    return TokenValidator(
        settings.app_id,
        metadata_url=settings.openid_metadata_url or BOT_FRAMEWORK_OPENID_METADATA_URL,
        issuers=issuers,
    )


def make_adapter(settings: Settings, token_source: TokenSource | None = None) -> CloudAdapter:
    """A CloudAdapter whose outgoing calls use :class:`bot.edge_client.ChannelClients`.

    ``token_source`` gives the outgoing token (tests pass a fixed one); with an app id and none given,
    the SDK's MSAL provider is used. Misconfiguration fails here, at start-up, naming the setting.
    """
    if settings.app_id and token_source is None:
        app_type = settings.app_type.lower()
        if app_type == "singletenant" and not (settings.app_password and settings.app_tenant_id):
            raise ValueError("app_type SingleTenant needs app_password and app_tenant_id")
        if app_type == "userassignedmsi" and not settings.app_tenant_id:
            raise ValueError("app_type UserAssignedMSI needs app_tenant_id")
        token_source = msal_token_source(
            settings.app_id, settings.app_password, settings.app_tenant_id, settings.app_type
        )
    clients = ChannelClients(settings.app_id, token_source)
    adapter = CloudAdapter(channel_service_client_factory=clients)
    adapter.cpc_clients = clients  # type: ignore[attr-defined]  # closed by the app's cleanup
    return adapter


async def process(
    adapter: CloudAdapter, identity: ClaimsIdentity, activity: Activity, logic: Logic
) -> InvokeResponse | None:
    """Run the turn with already-validated claims; returns the invoke response, if any."""
    response = await adapter.process_activity(identity, activity, logic)
    return response if isinstance(response, InvokeResponse) else None


async def close(adapter: CloudAdapter) -> None:
    """Close the adapter's connection pool for this event loop."""
    clients = getattr(adapter, "cpc_clients", None)
    if isinstance(clients, ChannelClients):
        await clients.close()
