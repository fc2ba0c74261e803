"""Proactive messages and their failures: cards the bot sends outside a turn (see :mod:`bot.edge`).

The conversation is named by a reference stored as JSON (:func:`bot.edge_activities.reference_to_json`).
The SDK's connector raises ``aiohttp.ClientResponseError`` (with the status, headers and body) for a
refusal and ``TimeoutError`` or ``aiohttp.ClientError`` when nothing answered; each becomes
:class:`SendFailed` with the status, Retry-After and "blocked" flag the scheduler needs. The send runs
inside its own proactive turn, so a failure is caught there and never reaches the app's turn-error
handler (which would post an apology into the very conversation that just refused a message).
The SDK does not retry by itself (checked: its connector makes one request per call), so the
scheduler's backoff is the only one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity, ChannelAccount, ConversationParameters
from microsoft_agents.hosting.core import ChannelServiceAdapter, TurnContext

from bot.edge_activities import reference_from_json
from bot.edge_cards import to_activity
from bot.edge_client import PROACTIVE_CALL_TIMEOUT, call_timeout
from casework.ports import SendFailed

#: Turn logic as the SDK calls it: one coroutine per turn.
Logic = Callable[[TurnContext], Awaitable[Any]]


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


def _error_code(body: str | None) -> str | None:
    try:
        data = json.loads(body or "")
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        found = data["error"].get("code")
        return found if isinstance(found, str) else None
    return None


def send_failed(exc: BaseException) -> SendFailed:
    """What the scheduler needs to know of a failed call: status, Retry-After, blocked, code."""
    if isinstance(exc, SendFailed):
        return exc
    if isinstance(exc, aiohttp.ClientResponseError):
        retry_after = _retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
        return SendFailed(exc.status, retry_after, exc.status == 403, code=_error_code(exc.message))
    if isinstance(exc, TimeoutError):
        return SendFailed(None, None, False, message="the channel did not answer in time")
    return SendFailed(None, None, False, message=type(exc).__name__)


async def _continue(
    adapter: ChannelServiceAdapter, app_id: str, reference_json: str, logic: Logic, timeout: float
) -> None:
    """Run ``logic`` in a proactive turn with the proactive time limit; raise what failed as SendFailed."""
    reference = reference_from_json(reference_json)
    failures: list[BaseException] = []

    async def guarded(turn_context: TurnContext) -> None:
        try:
            await logic(turn_context)
        except Exception as exc:
            failures.append(exc)

    continuation = reference.get_continuation_activity()
    continuation.id = None  # so that sends are plain posts to the conversation, not replies to it
    try:
        with call_timeout(timeout):
            await adapter.continue_conversation(app_id, continuation, guarded)
    except Exception as exc:
        raise send_failed(exc) from exc
    if failures:
        raise send_failed(failures[0]) from failures[0]


async def send_proactive(
    adapter: ChannelServiceAdapter,
    app_id: str,
    reference_json: str,
    activity: Activity | Mapping[str, Any],
    timeout: float = PROACTIVE_CALL_TIMEOUT,
) -> str:
    """Send ``activity`` (or an Adaptive Card / attachment dict) into a stored conversation.

    Returns the id the channel gave the new activity (keep it to update the card later); raises
    ``SendFailed`` when the channel refuses or cannot be reached, ValueError for a corrupt reference.
    """
    outgoing = to_activity(activity)
    ids: list[str] = []

    async def logic(turn_context: TurnContext) -> None:
        response = await turn_context.send_activity(outgoing)
        ids.append(getattr(response, "id", None) or "")

    await _continue(adapter, app_id, reference_json, logic, timeout)
    if not ids or not ids[0]:
        raise SendFailed(None, None, False, message="the channel returned no activity id")
    return ids[0]


async def update_proactive(
    adapter: ChannelServiceAdapter,
    app_id: str,
    reference_json: str,
    activity_id: str,
    activity: Activity | Mapping[str, Any],
    timeout: float = PROACTIVE_CALL_TIMEOUT,
) -> None:
    """Replace a message the bot sent earlier (e.g. a card whose decision has been taken)."""
    outgoing = to_activity(activity)

    async def logic(turn_context: TurnContext) -> None:
        outgoing.id = activity_id
        await turn_context.update_activity(outgoing)

    await _continue(adapter, app_id, reference_json, logic, timeout)


async def create_personal_conversation(
    adapter: ChannelServiceAdapter,
    app_id: str,
    service_url: str,
    tenant: str,
    user_id: str,
) -> str:
    """Open (or find) the 1:1 chat between the bot and a user; returns its reference as JSON.

    ``user_id`` is the Teams user id (29:...) or the Entra object id. For people who never wrote to
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
        reference = turn_context.activity.get_conversation_reference()
        reference.user = ChannelAccount(id=user_id)
        reference.activity_id = None
        references.append(
            json.dumps(reference.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True)
        )

    try:
        with call_timeout(PROACTIVE_CALL_TIMEOUT):
            await adapter.create_conversation(
                app_id, "msteams", service_url, "https://api.botframework.com", parameters, logic
            )
    except Exception as exc:
        raise send_failed(exc) from exc
    if not references:
        raise SendFailed(None, None, False, message="no conversation was created")
    return references[0]
