"""The Agents SDK application: which handler of :class:`bot.handler.ChallengeBot` each activity reaches.

Card actions are routed by verb, one route per verb, in the SDK's own style
(``app.adaptive_card.action_execute(verb)``), and the same verbs as ``Action.Submit`` (the fallback for
clients that only know it). An ``Action.Execute`` for a verb nobody knows, or a submit without one,
still gets a card saying so, from routes ranked last. Every other message is a typed command.

The SDK's turn state (conversation and user state in a storage) is not used: the store is the only
state, so the turn state here loads and saves nothing (one dictionary read and write fewer per turn,
and no memory that grows with every conversation ever seen).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from microsoft_agents.activity import ActivityTypes
from microsoft_agents.hosting.core import (
    AgentApplication,
    ApplicationOptions,
    MemoryStorage,
    RouteRank,
    TempState,
    TurnContext,
    TurnState,
)

from bot import edge

if TYPE_CHECKING:
    from bot.handler import ChallengeBot

log = edge.log
CARD_ACTION = "adaptiveCard/action"
SORRY = "Sorry, something went wrong before I could answer. Please try again."


class _NoStoredState(TurnState):
    """A turn state with only the SDK's per-turn scratch space: nothing read from or written to storage."""

    async def load(self, context: TurnContext, storage: Any = None) -> TurnState:
        self._scopes[TempState.SCOPE_NAME] = TempState()  # type: ignore[abstract,no-untyped-call]  # the scratch space the SDK writes the input to
        return self

    async def save(self, turn_context: TurnContext, force: bool = False) -> None:
        return None


class _NoSignIn:
    """The SDK's ``Connections`` for an app that signs nobody in: the application requires one to
    build its (unused) user authorization, and nothing here asks it for a token."""

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("this bot signs nobody in: no OAuth connection is configured")

    get_connection = get_default_connection = get_token_provider = _refuse
    get_token_provider_from_activity = get_default_connection_configuration = _refuse


def _submitted(context: TurnContext) -> dict[str, Any]:
    value = context.activity.value
    return value if isinstance(value, dict) else {}


def _is_submit(context: TurnContext) -> bool:
    activity = context.activity
    return activity.type == ActivityTypes.message and not (activity.text or "").strip() and bool(_submitted(context))


def application(bot: ChallengeBot, verbs: Iterable[str]) -> AgentApplication[TurnState]:
    """The SDK application with the bot's routes (built once per bot)."""
    app: AgentApplication[TurnState] = AgentApplication(
        ApplicationOptions(
            storage=MemoryStorage(),
            start_typing_timer=False,  # answers come within a second; typing activities would be noise
            remove_recipient_mention=False,  # bot.commands strips the mention itself, with Teams' markup
            turn_state_factory=_NoStoredState,
        ),
        connection_manager=_NoSignIn(),
    )

    async def before(context: TurnContext, _state: TurnState) -> bool:
        await bot.before_turn(context)
        return True

    app.before_turn(before)

    for verb in verbs:
        _route_verb(app, bot, verb)

    async def unknown_execute(context: TurnContext, _state: TurnState) -> None:
        raw = context.activity.value if isinstance(context.activity.value, dict) else {}
        action = raw.get("action")
        data = action.get("data") if isinstance(action, dict) else None
        card = await bot.card_action(context, None, data if isinstance(data, dict) else {})
        await _invoke_reply(context, edge.adaptive_card_response(card))

    app.add_route(
        lambda c: c.activity.type == ActivityTypes.invoke and c.activity.name == CARD_ACTION,
        _guarded(unknown_execute, answers_invoke=True),
        is_invoke=True,
        rank=RouteRank.LAST,
    )

    async def other_invoke(context: TurnContext, _state: TurnState) -> None:
        """Invokes this bot has no use for (task modules, sign-in...): a plain 200, never the SDK's 501."""
        await _invoke_reply(context, None)

    app.add_route(lambda c: c.activity.type == ActivityTypes.invoke, other_invoke, is_invoke=True, rank=RouteRank.LAST)

    async def unknown_submit(context: TurnContext, _state: TurnState) -> None:
        card = await bot.card_action(context, None, _submitted(context))
        await context.send_activity(edge.card_activity(card))

    app.add_route(_is_submit, _guarded(unknown_submit), rank=RouteRank.LAST)

    async def message(context: TurnContext, _state: TurnState) -> None:
        await bot.on_message(context)

    app.add_route(
        lambda c: c.activity.type == ActivityTypes.message and not _is_submit(c), _guarded(message), rank=RouteRank.LAST
    )

    async def meeting(context: TurnContext, _state: TurnState) -> None:
        await bot.on_meeting_event(context)

    app.add_route(lambda c: c.activity.type == ActivityTypes.event, _guarded(meeting))

    async def members_added(context: TurnContext, _state: TurnState) -> None:
        await bot.on_members_added(context)

    app.conversation_update("membersAdded")(_guarded(members_added))

    async def turn_error(context: TurnContext, error: Exception) -> None:
        await _apologise(context, error)

    # Handlers catch their own failures (_guarded), so the SDK's error path, which logs a traceback
    # with the exception's text, is only a backstop.
    app.error(turn_error)
    return app


def _guarded(handler: Callable[..., Awaitable[Any]], *, answers_invoke: bool = False) -> Callable[..., Awaitable[Any]]:
    """A route handler whose failure is answered and logged by type (never the SDK's traceback).

    An ``action_execute`` handler's return value is the SDK's invoke answer, so the apology is
    returned; a plain invoke route (``answers_invoke``) sends its own answer.
    """

    async def run(context: TurnContext, *args: Any) -> Any:
        try:
            return await handler(context, *args)
        except Exception as exc:
            await _apologise(context, exc)
            if context.activity.type != ActivityTypes.invoke:
                return None
            if answers_invoke:
                await _invoke_reply(context, edge.message_response(SORRY))
                return None
            return edge.message_response(SORRY)

    return run


def _route_verb(app: AgentApplication[TurnState], bot: ChallengeBot, verb: str) -> None:
    """Action.Execute (answered with the refreshed card) and Action.Submit (a reply with it) for ``verb``."""

    async def execute(context: TurnContext, _state: TurnState, data: Any) -> Any:
        card = await bot.card_action(context, verb, data if isinstance(data, Mapping) else {})
        return edge.adaptive_card_response(card)

    async def submit(context: TurnContext, _state: TurnState, data: Any) -> None:
        card = await bot.card_action(context, verb, data if isinstance(data, Mapping) else {})
        await context.send_activity(edge.card_activity(card))

    app.adaptive_card.action_execute(verb)(_guarded(execute))
    app.adaptive_card.action_submit(verb)(_guarded(submit))


async def _invoke_reply(context: TurnContext, response: Any) -> None:
    from microsoft_agents.activity import Activity, InvokeResponse

    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=response))
    )


async def _apologise(context: TurnContext, error: Exception) -> None:
    """A turn that failed is answered in the conversation and logged by type only (no traceback, no
    content: it could hold personal data). The answer does not claim that nothing changed: the
    action may have committed before its reply failed, and every action is idempotent."""
    log.error("turn failed: %s", type(error).__name__)
    if isinstance(error, (TimeoutError, aiohttp.ClientError)):
        return  # the channel itself failed or hung: a second call to it would only wait as long again
    if context.activity.type == ActivityTypes.invoke:
        return  # the invoke's answer is the message the guarded handler returns
    try:
        await context.send_activity(
            edge.text_activity(
                "Sorry, something went wrong before I could answer. Please try again: if what you sent was "
                "already recorded, I will say so, and nothing is recorded twice."
            )
        )
    except Exception:  # the channel may be the thing that failed
        log.warning("could not tell the user about a failed turn")
