"""What the bot sends: card and message activities, and the invoke responses to card actions (see :mod:`bot.edge`).

Cards are plain JSON (what cards.render returns). The Agents SDK's Activity is a pydantic model whose
attachment ``content`` is typed ``object``, so a card goes out as it is, without msrest's node-by-node
serialization (the ``JsonCard`` work-around for botbuilder is gone). One copy remains: the SDK's
``TurnContext.send_activities`` deep-copies every outgoing activity, card and all (turn_context.py,
1.9.0), hence :class:`SentCard`.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    Attachment,
    InvokeResponse,
)

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"


class SentCard(dict[str, Any]):
    """An Adaptive Card on its way out, which copies as itself.

    The SDK deep-copies each activity it sends; for a ``status`` card of a few hundred JSON nodes that
    copy was the largest cost a card turn had over a text reply (tests/unit/test_edge_cards.py shows
    the copy). Each card is built afresh for one send and nothing changes it afterwards, so the copy
    can share it. It is still a dict: pydantic writes it out as one.
    """

    def __copy__(self) -> SentCard:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SentCard:
        return self


def card_activity(card: Mapping[str, Any]) -> Activity:
    """A message activity carrying one Adaptive Card."""
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=ADAPTIVE_CARD_CONTENT_TYPE, content=SentCard(card))],
    )


def text_activity(text: str) -> Activity:
    return Activity(type=ActivityTypes.message, text=text)


def to_activity(activity: Activity | Mapping[str, Any]) -> Activity:
    """Accept an Activity, an activity dict, an Adaptive Card dict or an attachment dict."""
    if isinstance(activity, Activity):
        return activity
    if not isinstance(activity, Mapping):
        raise TypeError(f"expected an Activity or a dict, got {type(activity).__name__}")
    data = dict(activity)
    if data.get("type") == "AdaptiveCard":
        return card_activity(data)
    if "contentType" in data:
        data = {"type": "message", "attachments": [data]}
    data.setdefault("type", ActivityTypes.message)
    return Activity.model_validate(data)


def adaptive_card_response(card: Mapping[str, Any]) -> AdaptiveCardInvokeResponse:
    """The answer to an ``adaptiveCard/action`` that replaces the card in place (what an
    ``action_execute`` handler returns)."""
    return AdaptiveCardInvokeResponse(status_code=HTTPStatus.OK, type=ADAPTIVE_CARD_CONTENT_TYPE, value=SentCard(card))


def message_response(text: str) -> AdaptiveCardInvokeResponse:
    """The answer to an ``adaptiveCard/action`` that shows ``text`` and leaves the card as it was."""
    return AdaptiveCardInvokeResponse(status_code=HTTPStatus.OK, type=MESSAGE_CONTENT_TYPE, value=text)


def invoke_response_json(response: InvokeResponse) -> tuple[int, Any]:
    """(HTTP status, JSON-ready body) of the turn's invoke response."""
    body = response.body
    if hasattr(body, "model_dump"):
        body = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    return int(response.status or HTTPStatus.OK), body
