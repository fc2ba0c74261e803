"""bot.edge_cards.SentCard: why a card on its way out copies as itself, and that it goes out unchanged.

The Agents SDK's ``TurnContext.send_activities`` deep-copies every activity it sends (1.9.0); these
tests run that real copy, so they fail if the SDK stops copying (then SentCard can go) or if sharing
changes what is sent.
"""

from __future__ import annotations

import copy
import inspect
import json

from microsoft_agents.activity import Activity, Attachment
from microsoft_agents.hosting.core import TurnContext

from bot.edge_cards import ADAPTIVE_CARD_CONTENT_TYPE, SentCard, card_activity

CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": f"line {i}", "wrap": True} for i in range(30)],
}


def test_the_sdk_deep_copies_what_it_sends() -> None:
    """The reason for SentCard: a plain dict card is copied node by node on every send."""
    assert "deepcopy(act)" in inspect.getsource(TurnContext.send_activities)
    plain = Activity(
        type="message", attachments=[Attachment(content_type=ADAPTIVE_CARD_CONTENT_TYPE, content=dict(CARD))]
    )
    copied = copy.deepcopy(plain)
    assert copied.attachments is not None and plain.attachments is not None
    assert copied.attachments[0].content is not plain.attachments[0].content


def test_a_sent_card_is_shared_by_the_copy_and_serialises_the_same() -> None:
    activity = card_activity(CARD)
    copied = copy.deepcopy(activity)
    assert copied.attachments is not None and activity.attachments is not None
    assert copied.attachments[0].content is activity.attachments[0].content
    assert isinstance(copied.attachments[0].content, SentCard)
    plain = Activity(
        type="message", attachments=[Attachment(content_type=ADAPTIVE_CARD_CONTENT_TYPE, content=dict(CARD))]
    )
    dump = {"mode": "json", "by_alias": True, "exclude_unset": True}
    assert json.dumps(copied.model_dump(**dump)) == json.dumps(plain.model_dump(**dump))  # type: ignore[arg-type]


def test_a_sent_card_is_a_copy_of_the_card_given() -> None:
    """Sharing is safe because card_activity takes its own copy: the caller's dict may change later."""
    card = dict(CARD)
    activity = card_activity(card)
    card["version"] = "9.9"
    assert activity.attachments is not None
    content = activity.attachments[0].content
    assert isinstance(content, dict) and content["version"] == "1.5"
