"""The one renderer: fills an Adaptive Card template with values, escaping every one of them.

Templates are JSON documents with placeholders, in the spirit of Adaptive Card Templating:
``${name}`` inside a string is replaced by the value with Markdown escaped (TextBlocks render a
Markdown subset, so a reason typed as ``[click](https://evil)`` must show as typed);
``${raw:name}`` is replaced without Markdown escaping (ids, input values, action data), and when it is
the whole string the value keeps its JSON type. ``"$when": "name"`` keeps an element only when the
value is truthy; ``"$data": "name"`` repeats an element for each item of a list, the item's keys
becoming the placeholders. Values are substituted into the parsed structure, never spliced into JSON
text, so no value can change the card's shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"
_PLACEHOLDER = re.compile(r"\$\{(raw:)?([A-Za-z_][A-Za-z0-9_.]*)\}")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()~])")
_LIST_START = re.compile(r"(?m)^(\s*)([-+]|\d+\.)(\s)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TemplateError(Exception):
    """A template refers to a value it was not given: a bug in the caller, caught by the tests."""


def escape_markdown(text: str) -> str:
    """Backslash-escape the Markdown Adaptive Cards render (emphasis, links, list starts) so user
    text shows as typed; drop control characters. Dates and references pass through unchanged."""
    text = _MD_SPECIAL.sub(r"\\\1", _CONTROL.sub("", text))
    return _LIST_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}{m.group(3)}", text)


@lru_cache(maxsize=64)
def _load(name: str) -> Any:
    """The parsed template, read once: ``_fill`` builds new structures and never mutates it."""
    path = TEMPLATES / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _lookup(values: Mapping[str, Any], key: str) -> Any:
    cur: Any = values
    for part in key.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            raise TemplateError(f"template value {key!r} was not given")
        cur = cur[part]
    return cur


def _string(s: str, values: Mapping[str, Any]) -> Any:
    whole = _PLACEHOLDER.fullmatch(s)
    if whole and whole.group(1):
        return _lookup(values, whole.group(2))

    def sub(m: re.Match[str]) -> str:
        v = _lookup(values, m.group(2))
        text = "" if v is None else str(v)
        return text if m.group(1) else escape_markdown(text)

    return _PLACEHOLDER.sub(sub, s)


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        return _string(node, values)
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            if isinstance(item, dict) and "$data" in item:
                rows = _lookup(values, item["$data"])
                body = {k: v for k, v in item.items() if k != "$data"}
                for row in rows:
                    merged = {**values, **row}
                    filled = _fill(body, merged)
                    if filled is not None:
                        out.append(filled)
                continue
            filled = _fill(item, values)
            if filled is not None:
                out.append(filled)
        return out
    if isinstance(node, dict):
        if "$when" in node:
            if not _lookup(values, node["$when"]):
                return None
            node = {k: v for k, v in node.items() if k != "$when"}
        result: dict[str, Any] = {}
        for k, v in node.items():
            filled = _fill(v, values)
            if filled is None and v is not None:
                continue
            result[k] = filled
        return result
    return node


def render(name: str, **values: Any) -> dict[str, Any]:
    """The card ``name`` (``cards/templates/<name>.json``) filled with ``values``."""
    card = _fill(_load(name), values)
    assert isinstance(card, dict)
    return card


def attachment(card: Mapping[str, Any]) -> dict[str, Any]:
    """The Bot Framework attachment that carries a card in a message activity."""
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
