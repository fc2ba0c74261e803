"""The Bot Framework edge: the only module that touches botbuilder's adapter, auth and connector.

Why one module: the Bot Framework SDK is archived and its successor (the Microsoft 365 Agents SDK)
has different packages and types. Everything else in ``bot/`` talks to the functions here, so the
move touches this file only. It also works around the SDK's sharp edges in one place:

- Token validation fetches the OpenID metadata with a *blocking* ``requests.get`` and several bad
  tokens raise arbitrary exceptions (500s). ``authenticate`` runs the validation on a worker thread
  and turns every failure into ``Unauthorized``.
- Invoke bodies are serialized by the adapter, so the models returned here must stay unserialized.
- Outgoing calls go through msrest, whose errors (and silent retries of PUT/DELETE) are mapped to
  ``SendFailed`` with the status, Retry-After and "blocked" flag a scheduler needs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from botbuilder.core import BotAdapter, InvokeResponse, TurnContext, serializer_helper
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
    CallerIdConstants,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ServiceClientCredentialsFactory,
)

if TYPE_CHECKING:  # the composition root owns Settings; the edge only reads it
    from app.settings import Settings

__all__ = [
    "ADAPTIVE_CARD_CONTENT_TYPE",
    "AuthenticateRequestResult",
    "CloudAdapter",
    "InvokeResponse",
    "SendFailed",
    "Unauthorized",
    "adaptive_card_invoke_response",
    "authenticate",
    "create_personal_conversation",
    "invoke_response_json",
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

log = logging.getLogger(__name__)


def _fast_msrest_retry_policy() -> None:
    """msrest builds ``ClientRetryPolicy`` for every connector client (every turn), and its
    constructor tests 999 status codes for membership in a 502-item *list*: about 4 ms of CPU per
    turn, measured here as a third of the echo bot's time. A frozenset with the same members gives
    the same ``status_forcelist`` in microseconds. msrest is archived, so the fix lives here."""
    from msrest.universal_http.requests import ClientRetryPolicy

    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]  # only "in" is used on it


_fast_msrest_retry_policy()


class JsonCard(dict[str, Any]):
    """An Adaptive Card already in JSON form (what cards.render returns), never mutated once built.

    botbuilder deep-copies every outgoing activity and msrest then walks an ``object``-typed
    attachment node by node to serialize it: about 1 ms per card turn, measured, for a structure
    that is already plain JSON. A JsonCard deep-copies to itself and msrest passes it through.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> JsonCard:
        return self


def _msrest_passes_json_cards_through() -> None:
    from msrest.serialization import Serializer

    original = Serializer.serialize_object
    if getattr(original, "_passes_json_cards", False):
        return

    def serialize_object(self: Any, attr: Any, **kwargs: Any) -> Any:
        if type(attr) is JsonCard:
            return attr
        return original(self, attr, **kwargs)  # type: ignore[no-untyped-call]  # msrest is untyped

    serialize_object._passes_json_cards = True  # type: ignore[attr-defined]
    Serializer.serialize_object = serialize_object  # type: ignore[method-assign]


_msrest_passes_json_cards_through()


def card_activity(card: Mapping[str, Any]) -> Activity:
    """A message activity carrying one Adaptive Card, cheap to copy and to serialize."""
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=ADAPTIVE_CARD_CONTENT_TYPE, content=JsonCard(card))],
    )


ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"

#: How long ``authenticate`` waits for the metadata fetch and validation (requests has no timeout).
AUTH_TIMEOUT_SECONDS = 30.0

#: Turn logic as botbuilder calls it: one coroutine per turn.
Logic = Callable[[TurnContext], Awaitable[Any]]


class Unauthorized(Exception):
    """The request's token was missing or invalid: answer 401, never 500."""

    def __init__(self, reason: str = "request is not authorized") -> None:
        super().__init__(reason)
        self.reason = reason


class SendFailed(Exception):
    """An outgoing call to the channel failed.

    ``status`` is the HTTP status (None when no response arrived), ``retry_after`` the seconds of a
    Retry-After header, ``blocked`` is True for any 403 (``MessageWritesBlocked``: the user blocked
    or uninstalled the bot), ``code`` the Bot Framework error code when the body had one.
    """

    def __init__(
        self,
        status: int | None,
        retry_after: float | None,
        blocked: bool,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.blocked = blocked
        self.code = code
        detail = message or (f"HTTP {status}" if status is not None else "no response")
        super().__init__(f"send failed: {detail}" + (f" ({code})" if code else ""))

    @property
    def retryable(self) -> bool:
        """Worth retrying with backoff (Microsoft: 429, 412, 502, 504; and network errors)."""
        return not self.blocked and (self.status is None or self.status in (412, 429, 502, 504))


# --------------------------------------------------------------------------------------------------
# Adapter and authentication
# --------------------------------------------------------------------------------------------------


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


def parse_activity(body: Mapping[str, Any]) -> Activity:
    """An Activity from the JSON an HTTP request carried; ValueError when it is not an activity."""
    if not isinstance(body, Mapping):
        raise ValueError("activity body must be a JSON object")
    try:
        activity = Activity().deserialize(dict(body))
    except Exception as exc:  # msrest raises its own DeserializationError hierarchy
        raise ValueError(f"not an activity: {exc}") from exc
    if not activity.type:
        raise ValueError("activity has no type")
    return activity


def _validate_on_fresh_loop(auth: BotFrameworkAuthentication, activity: Activity, header: str | None) -> Any:
    """Run the SDK's async validation to completion on this (worker) thread's own event loop.

    The SDK's coroutine calls ``requests.get`` inside it, so awaiting it on the server's loop would
    block every other request while the metadata downloads.
    """
    return asyncio.run(auth.authenticate_request(activity, header))


async def authenticate(
    adapter_or_auth: CloudAdapter | BotFrameworkAuthentication,
    activity: Activity,
    auth_header: str | None,
    *,
    timeout: float = AUTH_TIMEOUT_SECONDS,
) -> AuthenticateRequestResult:
    """Validate the request's token for real; raise ``Unauthorized`` for every failure mode.

    Covers a missing header when an app id is set, malformed or expired tokens, unknown keys, wrong
    signature, audience, issuer, endorsement or ``serviceurl`` claim. The SDK raises PermissionError
    for some of these and IndexError, AttributeError, jwt errors or plain Exception for others.
    """
    auth = getattr(adapter_or_auth, "bot_framework_authentication", adapter_or_auth)
    # The parameterized SDK path tests ``header is None`` but an empty string crashes it (500).
    header = (auth_header or "").strip() or None
    try:
        if header is None and getattr(adapter_or_auth, "cpc_auth_disabled", False):
            # Auth disabled (loopback only) and no token: the SDK's anonymous path does no I/O, so it
            # runs here rather than on a worker thread whose GIL traffic slowed every other request.
            result = await auth.authenticate_request(activity, header)
        else:
            result = await asyncio.wait_for(asyncio.to_thread(_validate_on_fresh_loop, auth, activity, header), timeout)
    except Exception as exc:
        log.info("rejected request: %s: %s", type(exc).__name__, exc)
        raise Unauthorized(f"{type(exc).__name__}: {exc}") from exc
    identity = getattr(result, "claims_identity", None)
    if identity is None or not identity.is_authenticated:
        raise Unauthorized("no authenticated identity")
    return result


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


def invoke_response_json(response: InvokeResponse) -> tuple[int, Any]:
    """(HTTP status, JSON-ready body) for an invoke response, serializing SDK models exactly once."""
    body = response.body
    if body is not None and hasattr(body, "_attribute_map"):
        body = serializer_helper(body)
    return int(response.status or 200), body


# --------------------------------------------------------------------------------------------------
# Invoke responses
# --------------------------------------------------------------------------------------------------


def adaptive_card_invoke_response(card: dict[str, Any]) -> InvokeResponse:
    """The reply to an ``adaptiveCard/action`` that replaces the card in place.

    Return it from ``on_invoke_activity``: the body stays an unserialized model because CloudAdapter
    serializes it (returning it from ``on_adaptive_card_invoke`` serializes twice: HTTP 500).
    """
    return InvokeResponse(
        status=200,
        body=AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD_CONTENT_TYPE, value=card),
    )


class _MessageInvokeResponse(AdaptiveCardInvokeResponse):  # type: ignore[misc]  # untyped SDK base
    """AdaptiveCardInvokeResponse declares ``value`` as a dict; a message response carries a string,
    which the SDK's serializer rejects (HTTP 500). Same wire shape, ``value`` typed as any object."""

    _attribute_map = {  # noqa: RUF012  # msrest reads this class attribute
        **AdaptiveCardInvokeResponse._attribute_map,
        "value": {"key": "value", "type": "object"},
    }


def message_invoke_response(text: str) -> InvokeResponse:
    """The reply to an ``adaptiveCard/action`` that shows ``text`` and leaves the card as it was."""
    return InvokeResponse(
        status=200,
        body=_MessageInvokeResponse(status_code=200, type=MESSAGE_CONTENT_TYPE, value=text),
    )


# --------------------------------------------------------------------------------------------------
# Activities: tenant, conversation references
# --------------------------------------------------------------------------------------------------


def tenant_id(activity: Activity) -> str | None:
    """The tenant of an incoming Teams activity, from ``channelData.tenant.id``.

    ``conversation.tenantId`` is not usable: the SDK maps ``tenant_id`` to the key ``tenantID`` and
    drops Teams' ``tenantId`` into additional properties, so it is read only as a fallback.
    """
    channel_data = getattr(activity, "channel_data", None)
    tenant: Any = None
    if isinstance(channel_data, Mapping):
        tenant = channel_data.get("tenant")
    elif channel_data is not None:
        tenant = getattr(channel_data, "tenant", None)
    value = tenant.get("id") if isinstance(tenant, Mapping) else getattr(tenant, "id", None)
    if isinstance(value, str) and value:
        return value
    conversation = getattr(activity, "conversation", None)
    if conversation is not None:
        extra = getattr(conversation, "additional_properties", None) or {}
        fallback = getattr(conversation, "tenant_id", None) or extra.get("tenantId")
        if isinstance(fallback, str) and fallback:
            return fallback
    return None


def reference_to_json(activity: Activity) -> str:
    """A JSON string to store, from which the bot can message this conversation later."""
    reference = TurnContext.get_conversation_reference(activity)
    return json.dumps(reference.serialize(), sort_keys=True)


def reference_from_json(s: str) -> ConversationReference:
    """The stored reference back as the SDK object; ValueError when it is not one."""
    try:
        data = json.loads(s)
    except ValueError as exc:
        raise ValueError(f"conversation reference is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("conversation reference must be a JSON object")
    reference = ConversationReference().deserialize(data)
    if reference.conversation is None or not reference.conversation.id or not reference.service_url:
        raise ValueError("conversation reference lacks a conversation id or service url")
    return reference


# --------------------------------------------------------------------------------------------------
# Proactive messages and their failures
# --------------------------------------------------------------------------------------------------


def _to_activity(activity: Activity | Mapping[str, Any]) -> Activity:
    """Accept an Activity, an activity dict, an Adaptive Card dict or an attachment dict."""
    if isinstance(activity, Activity):
        return activity
    if not isinstance(activity, Mapping):
        raise TypeError(f"expected an Activity or a dict, got {type(activity).__name__}")
    data = dict(activity)
    if data.get("type") == "AdaptiveCard":
        data = {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "content": data}]}
    elif "contentType" in data:
        data = {"type": "message", "attachments": [data]}
    data.setdefault("type", ActivityTypes.message)
    return Activity().deserialize(data)


def _no_hidden_retries(turn_context: TurnContext) -> None:
    """Switch off msrest's own retries for this turn's connector.

    msrest retries PUT and DELETE on 5xx three times with backoff (not POST: its retry whitelist is
    ignored by urllib3 2), then raises an error without the status. The caller's scheduler does its
    own backoff with jitter, so one attempt with a readable status is what we want.
    """
    client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    policy = getattr(getattr(client, "config", None), "retry_policy", None)
    if policy is None:
        return
    policy.retries = 0
    policy.policy.status_forcelist = set()


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_code(exc: BaseException, response: Any) -> str | None:
    error = getattr(getattr(exc, "error", None), "error", None)
    code = getattr(error, "code", None)
    if isinstance(code, str) and code:
        return code
    text_method = getattr(response, "text", None)
    if not callable(text_method):
        return None
    try:
        data = json.loads(text_method())
    except Exception:
        return None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        found = data["error"].get("code")
        return found if isinstance(found, str) else None
    return None


def _send_failed(exc: BaseException) -> SendFailed:
    """Map msrest/requests errors (ErrorResponseException, ClientRequestError, ...) to SendFailed."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return SendFailed(None, None, False, message=f"{type(exc).__name__}: {exc}")
    headers = getattr(response, "headers", None) or {}
    retry_after = _retry_after_seconds(headers.get("Retry-After") if hasattr(headers, "get") else None)
    code = _error_code(exc, response)
    return SendFailed(status, retry_after, status == 403, code=code)


async def _continue(adapter: CloudAdapter, app_id: str, reference_json: str, logic: Logic) -> None:
    """Run ``logic`` in a proactive turn and raise what it raised, as ``SendFailed``.

    The failure is caught inside the turn: otherwise the adapter's ``on_turn_error`` (set by
    bot/app.py for incoming turns) swallows it and posts an apology into the very conversation that
    just refused a message, and the caller sees no error at all (a 403 or 429 looked like success
    with no activity id, and the apology was a second, unwanted message).
    """
    reference = reference_from_json(reference_json)
    failures: list[Exception] = []

    async def guarded(turn_context: TurnContext) -> None:
        try:
            await logic(turn_context)
        except Exception as exc:
            failures.append(exc)

    try:
        await adapter.continue_conversation(reference, guarded, app_id)
    except SendFailed:
        raise
    except Exception as exc:
        raise _send_failed(exc) from exc
    if failures:
        failure = failures[0]
        if isinstance(failure, SendFailed):
            raise failure
        raise _send_failed(failure) from failure


async def send_proactive(
    adapter: CloudAdapter,
    app_id: str,
    reference_json: str,
    activity: Activity | Mapping[str, Any],
) -> str:
    """Send ``activity`` (or an Adaptive Card / attachment dict) into a stored conversation.

    Returns the id the channel gave the new activity (keep it to update the card later); raises
    ``SendFailed`` when the channel refuses or cannot be reached, ValueError for a corrupt reference.
    """
    outgoing = _to_activity(activity)
    ids: list[str] = []

    async def logic(turn_context: TurnContext) -> None:
        _no_hidden_retries(turn_context)
        response = await turn_context.send_activity(outgoing)
        ids.append(getattr(response, "id", None) or "")

    await _continue(adapter, app_id, reference_json, logic)
    if not ids:
        raise SendFailed(None, None, False, message="the channel returned no activity id")
    return ids[0]


async def update_proactive(
    adapter: CloudAdapter,
    app_id: str,
    reference_json: str,
    activity_id: str,
    activity: Activity | Mapping[str, Any],
) -> None:
    """Replace a message the bot sent earlier (e.g. a card whose decision has been taken)."""
    outgoing = _to_activity(activity)
    outgoing.id = activity_id

    async def logic(turn_context: TurnContext) -> None:
        _no_hidden_retries(turn_context)
        await turn_context.update_activity(outgoing)

    await _continue(adapter, app_id, reference_json, logic)


async def create_personal_conversation(
    adapter: CloudAdapter,
    app_id: str,
    service_url: str,
    tenant: str,
    user_id: str,
) -> str:
    """Open (or find) the 1:1 chat between the bot and a user; returns its reference as JSON.

    ``user_id`` is the Teams user id (29:...) or the AAD object id. For people who never wrote to
    the bot but have it installed; the returned reference works with ``send_proactive``.
    """
    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=f"28:{app_id}" if app_id else "28:bot"),
        members=[ChannelAccount(id=user_id)],
        tenant_id=tenant,
        channel_data={"tenant": {"id": tenant}},
    )
    references: list[str] = []

    async def logic(turn_context: TurnContext) -> None:
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        reference.user = ChannelAccount(id=user_id)
        reference.activity_id = None
        references.append(json.dumps(reference.serialize(), sort_keys=True))

    try:
        await adapter.create_conversation(app_id, logic, parameters, "msteams", service_url, None)
    except Exception as exc:
        raise _send_failed(exc) from exc
    if not references:
        raise SendFailed(None, None, False, message="no conversation was created")
    return references[0]


async def member_email(turn_context: TurnContext, user_id: str) -> str | None:
    """The email (else the UPN) of a conversation member, from the channel's roster; None on error.

    ``GET /v3/conversations/{id}/members/{userId}`` via TeamsInfo; a proactive turn has no
    channelData (TeamsInfo would fail on it), so there the connector is asked directly.
    """
    try:
        if turn_context.activity.channel_data is None:
            client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            raw = await client.conversations.get_conversation_member(turn_context.activity.conversation.id, user_id)
            extra = getattr(raw, "additional_properties", None) or {}
            email = extra.get("email") or extra.get("userPrincipalName")
        else:
            member = await TeamsInfo.get_member(turn_context, user_id)
            email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
    except Exception as exc:
        log.info("member lookup failed for %s: %s: %s", user_id, type(exc).__name__, exc)
        return None
    return email if isinstance(email, str) and email else None
