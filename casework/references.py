"""Case references: the only way a case is named anywhere in the system.

Each authority names its own form of reference, a regular expression (``reference_pattern`` in a
pack's ``[area]`` table, or ``CPC_REFERENCE_PATTERN`` for a whole deployment); the default is
``CPC-`` followed by digits. A reference is upper-cased, then must match the pattern (the whole of
it, letters in either case) and also the basic shape every reference has: letters, digits, '-', '/'
and '_', at least one digit, at most 40 characters, no spaces. So a child's or family's name typed
by mistake (``SMITH-2015``, ``Jane Smith``) is refused rather than stored.

A refusal never repeats what was typed: it may be a name, and refusals are shown and logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from casework.errors import CaseworkError

DEFAULT_PATTERN = r"^CPC-\d{1,10}$"

# The shape under every pattern: what the Teams commands can carry as one word, and no name alone.
_SHAPE = re.compile(r"^(?=.*\d)[A-Z0-9][A-Z0-9/_-]{1,39}$")


class BadPattern(CaseworkError):
    """A reference pattern that is not a regular expression."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"a regular expression a whole case reference must match, not {pattern!r} ({reason})")
        self.pattern = pattern


class BadReference(CaseworkError):
    """A reference that is not of this authority's form (perhaps a name)."""

    def __init__(self, text: str, patterns: tuple[str, ...]) -> None:
        super().__init__(
            f"that is not a case reference of this authority: references {describe(patterns)}; names are never used"
        )
        self.text = text
        self.patterns = patterns


def check_pattern(pattern: str) -> str:
    """The pattern, if it is a regular expression; :class:`BadPattern` otherwise."""
    if not pattern.strip():
        raise BadPattern(pattern, "it is empty")
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise BadPattern(pattern, str(exc)) from None
    return pattern


def describe(patterns: Iterable[str]) -> str:
    """How references look, in words for the default pattern and as the regular expression otherwise."""
    parts = []
    for p in dict.fromkeys(patterns):
        if p == DEFAULT_PATTERN:
            parts.append("look like CPC- followed by digits, for example CPC-123")
        else:
            parts.append(f"match the pattern {p}")
    return " or ".join(parts) if parts else describe([DEFAULT_PATTERN])


def normalise_reference(text: str, patterns: str | Iterable[str] = DEFAULT_PATTERN) -> str:
    """Upper-case and validate against ``patterns`` (one, or any of several: the areas a reference
    may belong to); refuse anything else with :class:`BadReference`, which shows the expected form."""
    chosen = (patterns,) if isinstance(patterns, str) else tuple(dict.fromkeys(patterns)) or (DEFAULT_PATTERN,)
    ref = text.strip().upper()
    if not _SHAPE.match(ref) or not any(re.fullmatch(p, ref, re.IGNORECASE) for p in chosen):
        raise BadReference(text, chosen)
    return ref
