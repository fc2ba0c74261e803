"""What every card module shares: the card type, how times and names read in words, and citations.

A citation is shown as the procedure's name and paragraph ("Pan-Sussex Child Protection and
Safeguarding Procedures, 5.7.4"), linked where the pack gives the procedure's public address; which
document a source names is casework's (:mod:`casework.citations`), the Markdown is this module's.
"""

from __future__ import annotations

from typing import Any

from cards.render import escape_markdown, link
from casework.citations import Where, cite, cite_text
from casework.clock import when
from casework.wording import words

Card = dict[str, Any]


def cited(source: str, where: Where) -> str:
    """``source`` as card Markdown (for a ``${raw:...}`` placeholder): each document by its name and
    paragraph, a link where its address is known, "; " between them."""
    return "; ".join(link(c.text, c.url) for c in cite(source, where))


def cited_plain(source: str, where: Where) -> str:
    """``source`` as plain text (an email): each document by its name and paragraph, its address after it."""
    return "; ".join(c.text + (f" <{c.url}>" if c.url else "") for c in cite(source, where))


def prose(text: str, where: Where) -> str:
    """A note or message from a pack as card Markdown: any document it names, by its name."""
    return escape_markdown(cite_text(text, where))


__all__ = ["Card", "cited", "cited_plain", "escape_markdown", "prose", "when", "words"]
