"""Reading incoming activities: the JSON body, the tenant, the conversation reference, a member's email.

Part of the Agents SDK edge (see :mod:`bot.edge`). A conversation reference is stored as JSON so that
the scheduler can message the conversation later (:mod:`bot.edge_proactive`); the JSON keys are the
Bot Framework's (``serviceUrl``, ``bot``, ``conversation``...), so references stored by the old
botbuilder edge still load.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase

# The edge's one logger, whichever part of it logs.
log = logging.getLogger("bot.edge")


class _Withheld(logging.Filter):
    """Strips the SDK's tracebacks, and the body's values that its validation errors quote.

    ``Activity.model_validate`` logs every malformed body at ERROR with ``exc_info`` and the values
    it was given (checked in microsoft-agents-activity 1.9.0): 300 bad requests would write hundreds
    of KB of tracebacks, and a body's text may be personal. The edge answers 400 and logs one line of
    its own; the SDK's record keeps only its level and a fixed message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if record.name == _ACTIVITY_LOGGER:
            record.msg, record.args = "An activity failed validation (details withheld).", ()
        return True


_ACTIVITY_LOGGER = "microsoft_agents.activity.activity"
# The SDK modules that log with exc_info=True (grep of 1.9.0); a filter on a logger covers its own records.
for _name in (
    _ACTIVITY_LOGGER,
    "microsoft_agents.hosting.core.app.agent_application",
    "microsoft_agents.hosting.core.app.typing_indicator",
    "microsoft_agents.hosting.core.header_propagation.header_propagation_context",
):
    logging.getLogger(_name).addFilter(_Withheld())


def parse_activity(body: Any) -> Activity:
    """An Activity from the JSON an HTTP request carried; ValueError when it is not an activity.

    The SDK's own ``process_request`` would let a pydantic ValidationError escape as a 500, and it
    accepts an activity without a conversation only to fail later: both are refused here.
    """
    if not isinstance(body, Mapping):
        raise ValueError("activity body must be a JSON object")
    try:
        activity = Activity.model_validate(dict(body))
    except (pydantic.ValidationError, ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"not an activity: {type(exc).__name__}") from exc
    if not activity.type:
        raise ValueError("activity has no type")
    if activity.conversation is None or not activity.conversation.id:
        raise ValueError("activity has no conversation")
    return activity


def channel_of(activity: Activity) -> str | None:
    """The base channel id (``msteams``), as keys are endorsed for it."""
    channel = activity.channel_id
    if channel is None:
        return None
    return str(getattr(channel, "channel", None) or channel).split(":", 1)[0] or None


def tenant_id(activity: Activity) -> str | None:
    """The tenant of an incoming Teams activity, from ``channelData.tenant.id`` (Teams' own field),
    else ``conversation.tenantId``."""
    channel_data = activity.channel_data
    tenant: Any = None
    if isinstance(channel_data, Mapping):
        tenant = channel_data.get("tenant")
    elif channel_data is not None:
        tenant = getattr(channel_data, "tenant", None)
    value = tenant.get("id") if isinstance(tenant, Mapping) else getattr(tenant, "id", None)
    if isinstance(value, str) and value:
        return value
    conversation = activity.conversation
    fallback = getattr(conversation, "tenant_id", None) if conversation is not None else None
    return fallback if isinstance(fallback, str) and fallback else None


def reference_to_json(activity: Activity) -> str:
    """A JSON string to store, from which the bot can message this conversation later."""
    reference = activity.get_conversation_reference()
    return json.dumps(reference.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True)


def reference_from_json(s: str) -> ConversationReference:
    """The stored reference back as the SDK object; ValueError when it is not one."""
    try:
        data = json.loads(s)
    except ValueError as exc:
        raise ValueError(f"conversation reference is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("conversation reference must be a JSON object")
    try:
        reference = ConversationReference.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValueError("conversation reference lacks a conversation id or service url") from exc
    if reference.conversation is None or not reference.conversation.id or not reference.service_url:
        raise ValueError("conversation reference lacks a conversation id or service url")
    return reference


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """What the channel's roster says of a conversation member."""

    object_id: str | None
    email: str | None
    name: str | None


def _text(member: Any, attr: str, key: str) -> str | None:
    value = getattr(member, attr, None)
    if not value:
        value = (getattr(member, "model_extra", None) or {}).get(key)
    return value if isinstance(value, str) and value else None


async def roster_entry(turn_context: TurnContext, user_id: str) -> RosterEntry | None:
    """A conversation member as the channel's roster has them; None on error.

    ``GET /v3/conversations/{id}/members/{userId}`` through the turn's connector client.
    """
    try:
        client: Any = turn_context.services.get(ConnectorClientBase)
        conversation = turn_context.activity.conversation
        if client is None or conversation is None:
            return None
        # TeamsConnectorClient's own lookup returns a TeamsChannelAccount, which keeps the email.
        lookup = getattr(client, "get_conversation_member", None) or client.conversations.get_conversation_member
        member = await lookup(conversation.id, user_id)
    except Exception as exc:
        log.info("member lookup failed: %s", type(exc).__name__)
        return None
    email = _text(member, "email", "email") or _text(member, "user_principal_name", "userPrincipalName")
    return RosterEntry(_text(member, "aad_object_id", "aadObjectId"), email, _text(member, "name", "name"))


async def member_email(turn_context: TurnContext, user_id: str) -> str | None:
    """The email (else the UPN) of a conversation member, from the channel's roster; None on error."""
    entry = await roster_entry(turn_context, user_id)
    return entry.email if entry is not None else None


def mentioned_ids(activity: Activity) -> list[str]:
    """The Teams user ids an activity's text mentions (its ``mention`` entities), the bot left out."""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    found: list[str] = []
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True) if hasattr(entity, "model_dump") else dict(entity)
        mentioned = data.get("mentioned") if data.get("type") == "mention" else None
        user_id = mentioned.get("id") if isinstance(mentioned, Mapping) else None
        if isinstance(user_id, str) and user_id and user_id != bot_id and user_id not in found:
            found.append(user_id)
    return found


def member_name(turn_context: TurnContext) -> str | None:
    """The display name Teams sends with the activity (``from.name``), if any."""
    frm = turn_context.activity.from_property
    name = getattr(frm, "name", None)
    return name if isinstance(name, str) and name.strip() else None
