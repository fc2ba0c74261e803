"""The Bot Framework edge: the only place that touches botbuilder's adapter, auth and connector.

Why one edge: the Bot Framework SDK is archived and its successor (the Microsoft 365 Agents SDK)
has different packages and types. Everything else in ``bot/`` talks to the functions here, so the
move touches this module and its parts only. It also works around the SDK's sharp edges in one place:

- Token validation fetches the OpenID metadata with a *blocking* ``requests.get`` and several bad
  tokens raise arbitrary exceptions (500s). ``authenticate`` runs the validation on a worker thread
  and turns every failure into ``Unauthorized``.
- Invoke bodies are serialized by the adapter, so the models returned here must stay unserialized.
- Outgoing calls go through msrest, whose errors (and silent retries of PUT/DELETE) are mapped to
  ``SendFailed`` with the status, Retry-After and "blocked" flag a scheduler needs.

This module makes the adapter from settings and runs turns; it is the one import path for the rest,
which lives by responsibility: token checks in :mod:`bot.edge_auth`, reading activities and
conversation references in :mod:`bot.edge_activities`, what is sent and the invoke responses in
:mod:`bot.edge_cards`, proactive sends and their failures in :mod:`bot.edge_proactive`, and the
msrest work-arounds in :mod:`bot.edge_msrest`.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Protocol

from botbuilder.core import InvokeResponse
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ServiceClientCredentialsFactory,
)

from bot.edge_activities import member_email, parse_activity, reference_from_json, reference_to_json, tenant_id
from bot.edge_auth import AUTH_TIMEOUT_SECONDS, Unauthorized, authenticate, log
from bot.edge_cards import (
    ADAPTIVE_CARD_CONTENT_TYPE,
    MESSAGE_CONTENT_TYPE,
    adaptive_card_invoke_response,
    card_activity,
    invoke_response_json,
    message_invoke_response,
)
from bot.edge_msrest import JsonCard
from bot.edge_proactive import Logic, create_personal_conversation, send_proactive, update_proactive
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
    "AuthenticateRequestResult",
    "CloudAdapter",
    "InvokeResponse",
    "JsonCard",
    "Logic",
    "SendFailed",
    "Unauthorized",
    "adaptive_card_invoke_response",
    "authenticate",
    "card_activity",
    "create_personal_conversation",
    "invoke_response_json",
    "log",
    "make_adapter",
    "member_email",
    "message_invoke_response",
    "parse_activity",
    "process",
    "reference_from_json",
    "reference_to_json",
    "send_proactive",
    "tenant_id",
    "update_proactive",
]


def _sdk_configuration(settings: Settings) -> SimpleNamespace:
    """The attribute bag ``ConfigurationBotFrameworkAuthentication`` reads with getattr/hasattr."""
    app_type = settings.app_type if settings.app_id else "MultiTenant"
    config = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    if settings.openid_metadata_url or settings.token_issuer:
        # Setting any of these switches the SDK to its "parameterized" authentication, which has no
        # defaults of its own: leave one unset and outgoing calls lose their OAuth scope and login
        # URL. So spell out the public-cloud values, overriding only the channel->bot keys.
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
            settings.openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        )
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
            settings.token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
        )
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        config.OAUTH_URL = AuthenticationConstants.OAUTH_URL
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        )
        config.CALLER_ID = CallerIdConstants.public_azure_channel
        config.VALIDATE_AUTHORITY = True
    return config


def make_adapter(
    settings: Settings,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> CloudAdapter:
    """A CloudAdapter configured from settings; an empty app id disables auth (SDK behaviour).

    ``credentials_factory`` replaces the MSAL-backed outgoing credentials (tests pass one that returns
    a fixed token). Misconfiguration fails here, at start-up, with a message naming the setting.
    """
    if settings.app_id and credentials_factory is None:
        app_type = settings.app_type.lower()
        if app_type == "singletenant" and not (settings.app_password and settings.app_tenant_id):
            raise ValueError("app_type SingleTenant needs app_password and app_tenant_id")
        if app_type == "userassignedmsi" and not settings.app_tenant_id:
            raise ValueError("app_type UserAssignedMSI needs app_tenant_id")
    auth = ConfigurationBotFrameworkAuthentication(
        _sdk_configuration(settings), credentials_factory=credentials_factory
    )
    adapter = CloudAdapter(auth)
    adapter.cpc_auth_disabled = not settings.app_id
    return adapter


async def process(
    adapter: CloudAdapter,
    auth_result: AuthenticateRequestResult,
    activity: Activity,
    logic: Logic,
) -> InvokeResponse | None:
    """Run the turn with an already-validated request (CloudAdapter accepts the result in place of
    the header, so validation is not repeated). Returns the invoke response, if any."""
    response = await adapter.process_activity(auth_result, activity, logic)
    return response if isinstance(response, InvokeResponse) else None
