"""The one renderer: fills an Adaptive Card template with values, escaping every one of them.

Templates are JSON documents with placeholders, in the spirit of Adaptive Card Templating:
``${name}`` inside a string is replaced by the value with Markdown escaped where the card renders
Markdown (a TextBlock's ``text``, a fact's ``title`` and ``value``: a reason typed as
``[click](https://evil)`` must show as typed) and as plain text elsewhere (choice and action titles,
labels, input values: Teams shows a backslash there as a backslash);
``${raw:name}`` is replaced without Markdown escaping (ids, input values, action data), and when it is
the whole string the value keeps its JSON type. ``"$when": "name"`` keeps an element only when the
value is truthy; ``"$data": "name"`` repeats an element for each item of a list, the item's keys
becoming the placeholders. Values are substituted into the parsed structure, never spliced into JSON
text, so no value can change the card's shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
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
    return _LIST_START.sub(_unlisted, text)


def _unlisted(m: re.Match[str]) -> str:
    """A list start made plain: "1." becomes "1\\." (a backslash before a digit is not an escape in
    Markdown, so "\\1." showed its backslash in Teams); "-" becomes "\\-"."""
    indent, marker, gap = m.groups()
    return f"{indent}{marker[:-1]}\\.{gap}" if marker.endswith(".") else f"{indent}\\{marker}{gap}"


_LINK_URL = re.compile(r"https?://[^\s()<>\[\]\"'`\\]+")


def link(text: str, url: str | None) -> str:
    """``text`` as card Markdown, escaped; a link to ``url`` when it is a plain http(s) address.

    The result is Markdown already: a template places it with ``${raw:...}``. An address that could
    end the link early (a space, a bracket, a quote) is not linked; the text still shows.
    """
    shown = escape_markdown(text)
    return f"[{shown}]({url})" if url and _LINK_URL.fullmatch(url) else shown


#: A compiled template node: values in, filled JSON out; None means "leave this element out".
Filler = Callable[[Mapping[str, Any]], Any]


@lru_cache(maxsize=64)
def _load(name: str) -> Filler:
    """The template, read and compiled once.

    Why compile: the status card is drawn on every ``status`` turn, and walking the template and
    matching every string against the placeholder pattern on each render cost about three times
    what filling it in does. Compiling resolves, once, which strings hold placeholders, where they
    split and which keys they name; a render then only looks values up and escapes them. The
    compiled form builds new lists and dicts each time, so a card never shares structure with
    its template or with another card.
    """
    path = TEMPLATES / f"{name}.json"
    return _compile(json.loads(path.read_text(encoding="utf-8")))


def _path(key: str) -> tuple[str, ...]:
    return tuple(key.split("."))


def _lookup(values: Mapping[str, Any], key: tuple[str, ...]) -> Any:
    cur: Any = values
    for part in key:
        if not isinstance(cur, Mapping) or part not in cur:
            raise TemplateError(f"template value {'.'.join(key)!r} was not given")
        cur = cur[part]
    return cur


def _constant(value: Any) -> Filler:
    return lambda _values: value


def plain_text(text: str) -> str:
    """User text where a card shows text as it is (no Markdown): only control characters go."""
    return _CONTROL.sub("", text)


#: The members whose strings a card renders as Markdown: a TextBlock's (and TextRun's) ``text``;
#: inside ``facts``, a fact's ``title`` and ``value``.
_MARKDOWN_KEYS = frozenset({"text"})
_FACT_KEYS = frozenset({"title", "value"})


def _compile_string(s: str, markdown: bool = True) -> Filler:
    """``${raw:x}`` as the whole string keeps x's JSON type; otherwise the pieces are joined, each
    ``${x}`` Markdown-escaped (or, where the card renders no Markdown, only cleaned of control
    characters) and each ``${raw:x}`` as it is."""
    if "${" not in s:
        return _constant(s)
    whole = _PLACEHOLDER.fullmatch(s)
    if whole and whole.group(1):
        key = _path(whole.group(2))
        return lambda values: _lookup(values, key)
    pieces: list[str | tuple[bool, tuple[str, ...]]] = []
    at = 0
    for m in _PLACEHOLDER.finditer(s):
        if m.start() > at:
            pieces.append(s[at : m.start()])
        pieces.append((bool(m.group(1)), _path(m.group(2))))
        at = m.end()
    if at < len(s):
        pieces.append(s[at:])
    escape = escape_markdown if markdown else plain_text

    def fill(values: Mapping[str, Any]) -> str:
        out: list[str] = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            raw, key = piece
            v = _lookup(values, key)
            text = "" if v is None else str(v)
            out.append(text if raw else escape(text))
        return "".join(out)

    return fill


def _compile_list(node: list[Any], keys: frozenset[str]) -> Filler:
    """Items whose filling is None are left out; a ``"$data": "rows"`` item repeats for each row,
    the row's keys added to the values it is filled with."""
    items: list[tuple[tuple[str, ...] | None, Filler]] = []
    for item in node:
        if isinstance(item, dict) and "$data" in item:
            body = {k: v for k, v in item.items() if k != "$data"}
            items.append((_path(item["$data"]), _compile(body, keys)))
        else:
            items.append((None, _compile(item, keys)))

    def fill(values: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for rows_key, filler in items:
            if rows_key is None:
                filled = filler(values)
                if filled is not None:
                    out.append(filled)
                continue
            for row in _lookup(values, rows_key):
                filled = filler({**values, **row})
                if filled is not None:
                    out.append(filled)
        return out

    return fill


def _compile_dict(node: dict[str, Any], keys: frozenset[str]) -> Filler:
    """``"$when": "x"`` keeps the element only when x is truthy; a member whose filling is None
    (its own ``$when`` false, or a whole ``${raw:x}`` given None) is left out."""
    when = _path(node["$when"]) if "$when" in node else None
    members = [(k, _member(k, v, keys), v is not None) for k, v in node.items() if k != "$when"]

    def fill(values: Mapping[str, Any]) -> dict[str, Any] | None:
        if when is not None and not _lookup(values, when):
            return None
        result: dict[str, Any] = {}
        for k, filler, droppable in members:
            filled = filler(values)
            if filled is None and droppable:
                continue
            result[k] = filled
        return result

    return fill


def _member(key: str, value: Any, keys: frozenset[str]) -> Filler:
    """A dict member: a string renders Markdown when its key is one of ``keys``; the dicts under
    ``facts`` are facts, everything else has the card's usual Markdown keys."""
    if isinstance(value, str):
        return _compile_string(value, markdown=key in keys)
    return _compile(value, _FACT_KEYS if key == "facts" else _MARKDOWN_KEYS)


def _compile(node: Any, keys: frozenset[str] = _MARKDOWN_KEYS) -> Filler:
    if isinstance(node, str):
        return _compile_string(node, markdown=False)
    if isinstance(node, list):
        return _compile_list(node, keys)
    if isinstance(node, dict):
        return _compile_dict(node, keys)
    return _constant(node)


def render(name: str, **values: Any) -> dict[str, Any]:
    """The card ``name`` (``cards/templates/<name>.json``) filled with ``values``."""
    card = _load(name)(values)
    assert isinstance(card, dict)
    return card


def attachment(card: Mapping[str, Any]) -> dict[str, Any]:
    """The Bot Framework attachment that carries a card in a message activity."""
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
