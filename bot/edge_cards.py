"""What the bot sends: card and message activities, and the invoke responses to card actions (see :mod:`bot.edge`).

Invoke bodies are serialized by the adapter, so the models returned here must stay unserialized;
cards travel as :class:`~bot.edge_msrest.JsonCard`, which botbuilder's deep copy and msrest's
serializer pass through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botbuilder.core import InvokeResponse, serializer_helper
from botbuilder.schema import Activity, ActivityTypes, AdaptiveCardInvokeResponse, Attachment

from bot.edge_msrest import JsonCard

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"


def card_activity(card: Mapping[str, Any]) -> Activity:
    """A message activity carrying one Adaptive Card, cheap to copy and to serialize."""
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=ADAPTIVE_CARD_CONTENT_TYPE, content=JsonCard(card))],
    )


def to_activity(activity: Activity | Mapping[str, Any]) -> Activity:
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


def invoke_response_json(response: InvokeResponse) -> tuple[int, Any]:
    """(HTTP status, JSON-ready body) for an invoke response, serializing SDK models exactly once."""
    body = response.body
    if body is not None and hasattr(body, "_attribute_map"):
        body = serializer_helper(body)
    return int(response.status or 200), body


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
