"""Every object in a card, depth first: for tests that look for an element wherever it sits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def card_nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from card_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from card_nodes(value)
