"""Work-arounds for msrest, the archived HTTP layer under the Bot Framework SDK (see :mod:`bot.edge`).

Both are measured costs on every turn, fixed here because msrest will not be: its retry policy's
status list, and its node-by-node serialization of cards that are already JSON. They are applied
once, when this module is imported (by :mod:`bot.edge_cards`, so before any card is sent).
"""

from __future__ import annotations

from typing import Any


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
