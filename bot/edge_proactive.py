"""Proactive messages and their failures: cards the bot sends outside a turn (see :mod:`bot.edge`).

Outgoing calls go through msrest, whose errors (and silent retries of PUT/DELETE) are mapped to
:class:`SendFailed` with the status, Retry-After and "blocked" flag a scheduler needs. The
conversation is named by a reference stored as JSON (:func:`bot.edge_activities.reference_to_json`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters

from bot.edge_activities import reference_from_json
from bot.edge_cards import to_activity
from casework.ports import SendFailed

#: Turn logic as botbuilder calls it: one coroutine per turn.
Logic = Callable[[TurnContext], Awaitable[Any]]


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
    outgoing = to_activity(activity)
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
    outgoing = to_activity(activity)
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
