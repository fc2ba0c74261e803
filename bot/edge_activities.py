"""Reading incoming activities: the JSON body, the tenant, the conversation reference, a member's email.

Part of the Bot Framework edge (see :mod:`bot.edge`). A conversation reference is stored as JSON so
that the scheduler can message the conversation later (:mod:`bot.edge_proactive`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ConversationReference

# The edge's one logger, whichever part of it logs (its name predates the split of bot/edge.py).
log = logging.getLogger("bot.edge")


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
